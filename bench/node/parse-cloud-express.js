'use strict';
// The parse-cloud-express 1.2.0 peer of the benchmark (the helper Parse published in 2015
// for webhooks in Node.js): the same two hooks as `ours` and `raw-hyper`, written with its
// Cloud Code API. Its own Express app serves them, with its defaults (body-parser's JSON
// limit: 100 KB), at its own routes:
//
//   POST /function_echo          -> {"success": <params>}
//   POST /beforeSave_GameScore   -> {"success": <object, with reviewed: true>}
//
// It has no afterFind hook (it serves functions, beforeSave, afterSave, beforeDelete and
// afterDelete only): the benchmark shows its afterFind cell as not applicable.
//
// Environment: PARSE_WEBHOOK_KEY (required: the X-Parse-Webhook-Key; the helper answers
// {"error": "Unauthorized Request."} otherwise), FUNCTION_NAME (echo) and CLASS_NAME
// (GameScore): the names served, HOST (127.0.0.1), PORT (0: a free port). Prints
// `listening on <host>:<port>`.
if (!process.env.PARSE_WEBHOOK_KEY) {
  console.error('parse-cloud-express.js: PARSE_WEBHOOK_KEY is required');
  process.exit(2);
}
const ParseCloud = require('parse-cloud-express');

const Parse = ParseCloud.Parse;
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);
const functionName = process.env.FUNCTION_NAME || 'echo';
const className = process.env.CLASS_NAME || 'GameScore';

Parse.Cloud.define(functionName, (req, res) => {
  res.success(req.params);
});

Parse.Cloud.beforeSave(className, (req, res) => {
  if (typeof req.object.get('score') !== 'number') {
    res.error('score must be a number');
    return;
  }
  req.object.set('reviewed', true);
  // The object, not `res.success()` alone: that answers {"success": true}, which fails
  // every save on Parse Server.
  res.success(req.object);
});

const server = ParseCloud.app.listen(port, host, () => {
  console.log(`listening on ${host}:${server.address().port}`);
});
server.on('error', (error) => {
  console.error(`parse-cloud-express.js: cannot listen: ${error.message}`);
  process.exit(1);
});
