// node:util parseArgs with errors turned into UsageErrors (exit 2), and checked number options.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type HelpOption = { help: { type: 'boolean'; short: 'h' } };
/** What parse() gives back: parseArgs' typed values (with --help) and the positionals. */
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: HelpOption & O; allowPositionals: true; strict: true }>>;

/**
 * `--seed -1`: parseArgs takes a value that starts with '-' for an option and refuses it as ambiguous; a number
 * there is plainly the option's value, so it is joined (`--seed=-1`) and the option's own check says what is wrong.
 */
function joinNegativeValues(args: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    const next = args[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse<O extends Options>(command: string, args: string[], options: O, maxPositionals: number): Parsed<O> {
  let parsed: Parsed<O>;
  try {
    const all: HelpOption & O = { help: { type: 'boolean', short: 'h' }, ...options };
    parsed = parseArgs({ args: joinNegativeValues(args, options), options: all, allowPositionals: true, strict: true });
  } catch (e) {
    // One line; an unknown option's advice about '--' positionals does not apply here, so only its first sentence.
    let msg = (e as Error).message.replace(/\s*\n\s*/g, ' ');
    if (msg.startsWith('Unknown option')) msg = msg.split('. ')[0]!;
    msg = msg.replace(/\.$/, '');
    throw new UsageError(`${command}: ${msg} (see prsim ${command} --help)`);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[maxPositionals]}' (see prsim ${command} --help)`);
  }
  return parsed;
}

export function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new UsageError(`--${name}: expected integer ${min}..${max}, got '${text}'`);
  }
  return v;
}

export function positiveOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  // Decimal notation only, as in a scenario file: Number() would also read 0x10, 0b11 and 0o7.
  if (!/^\s*\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text) || !Number.isFinite(v) || v <= 0) throw new UsageError(`--${name}: expected a number > 0, got '${text}'`);
  return v;
}

export function choiceOption<T extends string>(name: string, text: string | undefined, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name}: expected one of ${choices.join(', ')}, got '${text}'`);
  }
  return text as T;
}
