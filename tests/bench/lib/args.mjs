// Command-line options of the benchmark scripts: `--name value` and bare `--name`.

const args = process.argv.slice(2);

/** The value after `--name`, or `def` when it is not given. */
export const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};

/** Whether the bare `--name` is given. */
export const flag = (name) => args.includes(`--${name}`);
