export { kitStatic, type KitStaticOptions } from './plugin.ts';
export { CONTENT_TYPES } from './content-types.ts';
