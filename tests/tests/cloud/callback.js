// In-process Cloud Code that callback.rs compares webhooks with: the same work, done by
// Parse Server's own Cloud Code, so that the tests can tell what a client gets from each.

Parse.Cloud.define('cloudFind', req =>
  new Parse.Query(req.params.className).ascending('n').find({ useMasterKey: true }));

Parse.Cloud.define('cloudGet', req =>
  new Parse.Query(req.params.className).get(req.params.id, { useMasterKey: true }));

Parse.Cloud.define('cloudCreate', async req => {
  const object = new Parse.Object(req.params.className);
  object.set('n', req.params.n);
  await object.save(null, { useMasterKey: true });
  return { created: object, n: req.params.n };
});
