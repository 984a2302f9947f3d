// A floor for `write`: Node reading stdin and finding every line with
// Buffer.indexOf('\n'), nothing else. Prints the line count.
let lines = 0;
let carry = 0;
for await (const chunk of process.stdin) {
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
  carry += chunk.length;
}
process.stdout.write(`${lines} lines, ${carry} bytes\n`);
