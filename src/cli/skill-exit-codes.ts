// The `skill test` exit codes, in the help text (registered up front) and the verb alike.
export const SKILL_EXIT_CODES = "Exit codes: 0 nothing risky seen; 1 the test could not run; 2 risky behaviour seen; 3 (with --policy) attempts the policy refuses.";
