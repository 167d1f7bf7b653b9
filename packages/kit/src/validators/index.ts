export { kitEtag, type KitEtagOptions } from './plugin.ts';
export { strongEtag } from './etag.ts';
export { ifNoneMatchMatches, parseIfNoneMatch } from './conditional.ts';
