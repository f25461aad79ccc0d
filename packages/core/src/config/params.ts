import { z } from "zod";
import { parseDuration } from "../duration.js";

/** Reusable param schemas whose messages read well in `file:line: path: message` errors. */
export const positiveInteger = () =>
  z.number({ error: "expected a positive integer" }).int("expected a positive integer").positive("expected a positive integer");

export const nonNegativeInteger = () =>
  z.number({ error: "expected a whole number ≥ 0" }).int("expected a whole number ≥ 0").min(0, "expected a whole number ≥ 0");

export const fraction = () =>
  z
    .number({ error: "expected a number between 0 and 1" })
    .min(0, "expected a number between 0 and 1")
    .max(1, "expected a number between 0 and 1");

export const durationText = () =>
  z
    .string({ error: 'expected a duration such as "90s", "5m" or "1h30m"' })
    .refine((text) => parseDuration(text) !== undefined, 'expected a duration such as "90s", "5m" or "1h30m"');

export const regexText = () =>
  z.string().superRefine((text, context) => {
    try {
      new RegExp(text);
    } catch (error) {
      context.addIssue({ code: "custom", message: `not a valid regular expression: ${(error as Error).message}` });
    }
  });
