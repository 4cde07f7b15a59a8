export const unmatchedParams = {
  limit: { type: 'number', integer: true, min: 1, max: 500, optional: true, convert: true },
  offset: { type: 'number', integer: true, min: 0, optional: true, convert: true },
} as const;

export interface UnmatchedParams {
  limit?: number;
  offset?: number;
}
