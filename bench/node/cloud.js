'use strict';
// In-process Cloud Code for the end-to-end part of the benchmark (Parse Server's `cloud`
// option): the same two hooks as the webhook servers, run inside Parse Server itself. The
// webhook servers serve `echo<Server>` and `GameScore<Server>` on the same Parse Server, so
// these are named `echoCloud` and `GameScoreCloud`; `topScoresCloud` runs the query the
// webhook servers' `topScores` run, as the caller (their session token when they have one).
Parse.Cloud.define('echoCloud', (request) => request.params);

Parse.Cloud.beforeSave('GameScoreCloud', (request) => {
  if (typeof request.object.get('score') !== 'number') {
    throw new Parse.Error(Parse.Error.SCRIPT_FAILED, 'score must be a number');
  }
  request.object.set('reviewed', true);
});

Parse.Cloud.define('topScoresCloud', (request) =>
  new Parse.Query('GameScore')
    .greaterThan('score', 100)
    .descending('score')
    .limit(10)
    .find({ sessionToken: request.user ? request.user.getSessionToken() : undefined }));
