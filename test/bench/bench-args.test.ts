// The tests live beside the bench code in bench/lib; imported here so that
// the root `npm test` globs reach them.
import '../../bench/lib/args.test.ts';
