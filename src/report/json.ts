// JSON for people: indented objects, but arrays of plain values on one line (zone tables, hole pairs, counts).

export function prettyJson(value: unknown, indent = '  ', at = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x !== 'object')))) {
      return JSON.stringify(value).replace(/,/g, ', ');
    }
    const inner = at + indent;
    return `[\n${value.map((v) => inner + prettyJson(v, indent, inner)).join(',\n')}\n${at}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (!entries.length) return '{}';
    const inner = at + indent;
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, indent, inner)}`).join(',\n')}\n${at}}`;
  }
  return JSON.stringify(value);
}
