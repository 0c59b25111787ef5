// `npm run bench`: runs the benchmarks, prints their tables, and writes them to
// docs/benchmarks.md with the command that produced them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = ['run', '--profile', 'native', '-q', '-p', 'affinity-lens', '--example', 'bench', '--', '--latency-ms', '100'];
console.log(`$ cargo ${args.join(' ')}`);
const lookup = execFileSync('cargo', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
console.log(lookup);

const machine = `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores`;
writeFileSync(join(root, 'docs', 'benchmarks.md'), `# Benchmarks

Produced by \`npm run bench\` (\`cargo ${args.join(' ')}\`) on ${new Date().toISOString().slice(0, 10)},
${machine}. The sandbox runs in the same process and adds 100 ms to every answer, so time is
dominated by round trips, as it is against Affinity.

"Sequential rounds" is the longest chain of requests each of which started after the
previous one ended. The seed's recipe is the reference's "strongest relationship strength
connection" and "field value changes for status fields" done one request after another.

${lookup.trim()}
`);
console.log('written to docs/benchmarks.md');
