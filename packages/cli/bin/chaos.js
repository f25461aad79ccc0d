#!/usr/bin/env node
// A committed entry point, so npm links the `chaos` bin even before the first build.
import "../dist/bin.js";
