// The report writer's tests live beside it in bench/lib; imported here so that
// the root `npm test` globs reach them.
import '../../bench/lib/report.test.ts';
