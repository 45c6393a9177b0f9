// Runs an OpenWhisk Node.js action file the way the nodejs runtime runs plain source: the code
// is evaluated in a function scope and its top-level `main` is called with the params (read as
// JSON from stdin). The last stdout line is `{"ok": result}` or `{"err": message}`; earlier
// lines are the action's own logs.
const fs = require('fs');

const code = fs.readFileSync(process.argv[2], 'utf8');
const params = JSON.parse(fs.readFileSync(0, 'utf8') || '{}');

function finish(line) {
  process.stdout.write('\n' + JSON.stringify(line) + '\n');
  // Actions may leave handles open; the runtime does not wait for them either.
  process.exit(0);
}

let main;
try {
  main = new Function('require', `${code}\nreturn main;`)(require);
} catch (e) {
  finish({ err: `cannot load the action: ${e.message}` });
}
Promise.resolve()
  .then(() => main(params))
  .then(
    (result) => finish({ ok: result === undefined ? null : result }),
    (e) => finish({ err: String((e && e.message) || e) }),
  );
