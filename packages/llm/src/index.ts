// The LLM planner (`chaos plan`, `chaos agent`) arrives with its issue; the package exists so the
// workspace layout is final and the config loader already validates the `llm:` form.
export {};
