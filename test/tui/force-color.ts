// Imported first by a test file: Ink's colour library reads FORCE_COLOR when it loads, and vitest's
// output is not a terminal, so without it no frame would hold a colour escape in any mode and the
// NO_COLOR test could not fail.
process.env.FORCE_COLOR = '1'
