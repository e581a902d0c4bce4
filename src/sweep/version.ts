// The simulator version written into every sweep row (the package version; a test holds the two equal). Rows
// of different versions are never merged or resumed into one result: the figures may differ between them.
export const SIM_VERSION = '0.1.0';
