'use strict';
// The Express 5 peer of the benchmark: the same two hooks as `ours` and `raw-hyper`
// (bench/src/bin), written as a Node.js receiver of Parse Server webhooks usually is:
// express with its JSON body parser (20 MB limit), everything else at Express's defaults.
//
//   POST /functions/echo                  -> {"success": <params>}
//   POST /triggers/GameScore/beforeSave   -> {"success": <object without className,
//                                            with reviewed: true>}; score must be a number
//   POST /triggers/GameScore/afterFind    -> {}; the results (`objects`) must be an array
//
//   POST /functions/topScores             -> {"success": <the ten highest GameScores above
//                                            100>}, found with the Parse JS SDK as the
//                                            caller (served with BENCH_PARSE_URL only)
//
// Environment: WEBHOOK_KEY (required: the X-Parse-Webhook-Key every call must carry; 401
// otherwise), FUNCTION_NAME (echo) and CLASS_NAME (GameScore): the names served, HOST
// (127.0.0.1), PORT (0: a free port), BENCH_PARSE_URL and BENCH_PARSE_APP_ID: the Parse
// Server `topScores` queries (TOP_SCORES_NAME: the name it is served under, topScores), with the Parse JS SDK of the tests' Parse Server
// (tests/parse-server/node_modules/parse). Prints `listening on <host>:<port>`.
const path = require('path');
const express = require('express');

const key = process.env.WEBHOOK_KEY;
if (!key) {
  console.error('express.js: WEBHOOK_KEY is required');
  process.exit(2);
}
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 0);
const functionName = process.env.FUNCTION_NAME || 'echo';
const className = process.env.CLASS_NAME || 'GameScore';

const app = express();
app.use((req, res, next) => {
  if (req.get('X-Parse-Webhook-Key') !== key) {
    res.status(401).json({ error: 'unauthorized' });
    return;
  }
  next();
});
app.use(express.json({ limit: '20mb' }));

app.post(`/functions/${functionName}`, (req, res) => {
  res.json({ success: req.body.params });
});

app.post(`/triggers/${className}/beforeSave`, (req, res) => {
  const object = req.body.object;
  if (!object || typeof object.score !== 'number') {
    res.json({ error: 'score must be a number' });
    return;
  }
  delete object.className;
  object.reviewed = true;
  res.json({ success: object });
});

app.post(`/triggers/${className}/afterFind`, (req, res) => {
  if (!Array.isArray(req.body.objects)) {
    res.json({ error: 'the results are not an array' });
    return;
  }
  res.json({});
});

if (process.env.BENCH_PARSE_URL) {
  const Parse = require(path.join(__dirname, '../../tests/parse-server/node_modules/parse/node'));
  Parse.initialize(process.env.BENCH_PARSE_APP_ID);
  Parse.serverURL = process.env.BENCH_PARSE_URL;

  app.post(`/functions/${process.env.TOP_SCORES_NAME || 'topScores'}`, async (req, res) => {
    // As the caller: their session token when they sent one.
    const user = req.body.user;
    const options = user && user.sessionToken ? { sessionToken: user.sessionToken } : {};
    try {
      const results = await new Parse.Query('GameScore')
        .greaterThan('score', 100)
        .descending('score')
        .limit(10)
        .find(options);
      res.json({ success: results });
    } catch (error) {
      res.json({ error: error.message });
    }
  });
}

const server = app.listen(port, host, (error) => {
  if (error) {
    console.error(`express.js: cannot listen: ${error.message}`);
    process.exit(1);
  }
  console.log(`listening on ${host}:${server.address().port}`);
});
