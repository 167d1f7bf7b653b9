// The wrk parser's tests live beside it in bench/lib; importing them here puts
// them under the root `npm test` globs without a second copy.
import '../../bench/lib/wrk.test.ts';
