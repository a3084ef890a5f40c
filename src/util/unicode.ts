// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Strings with lone surrogates cannot be encoded as UTF-8: s3db would store U+FFFD or fail. */
export function hasLoneSurrogate (value: string): boolean {
  return LONE_SURROGATE.test(value)
}
