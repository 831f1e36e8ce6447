/** The provider this package adapts Sluice functions to. The adapter itself lands with its own issue. */
export const PROVIDER = "aws" as const;
