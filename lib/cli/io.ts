/** How a command talks to the operator: output lines, errors, and (interactive only) a question. */
import { createInterface } from 'readline';

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when stdin is a terminal, so the operator can be asked. */
  readonly interactive: boolean;
  /** Asks one question on stderr and returns the answer line. */
  ask(question: string): Promise<string>;
}

export function processIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    interactive: Boolean(process.stdin.isTTY),
    ask: (question) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        rl.question(question, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
  };
}
