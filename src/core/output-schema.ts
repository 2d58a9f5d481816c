/**
 * The version of kdoctor's JSON outputs (diagnose, triage, setup, version): raised when a field changes meaning or
 * goes away. Fields are only ever added within one version.
 */
export const OUTPUT_SCHEMA_VERSION = 1;
