// Drives HubSpot's official Node client against the HubSpot simulator and checks that every
// call the client makes is understood and every response parses into the client's models.
// Prints one JSON line: {"results":[{"name","ok","error"?}]}. Run by sim/tests/hubspot_node_client.rs.
//
// Environment: SIM_BASE (simulator base URL), SIM_TOKEN (private-app token), SIM_OAUTH_TOKEN
// (an OAuth access token of the app), SIM_DEV_KEY
// (developer API key), SIM_APP_ID, SIM_CLIENT_SECRET.

import http from 'node:http';
import assert from 'node:assert/strict';
import hubspot from '@hubspot/api-client';

const { Client, Signature } = hubspot;
const base = process.env.SIM_BASE;
const appId = Number(process.env.SIM_APP_ID);
const clientSecret = process.env.SIM_CLIENT_SECRET;
const crm = new Client({ accessToken: process.env.SIM_TOKEN, basePath: base, numberOfApiCallRetries: 0 });
// Timeline events must be posted with an OAuth token of the app that owns the template.
const app = new Client({ accessToken: process.env.SIM_OAUTH_TOKEN, basePath: base, numberOfApiCallRetries: 0 });
const dev = new Client({ developerApiKey: process.env.SIM_DEV_KEY, basePath: base, numberOfApiCallRetries: 0 });
const run = Date.now().toString(36);
const results = [];

async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
  } catch (e) {
    const detail = e && e.body !== undefined ? `${e.message} body=${JSON.stringify(e.body)}` : (e && e.stack) || String(e);
    results.push({ name, ok: false, error: detail });
  }
}

async function expectApiError(promise, code, category) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.code, code, `status ${e.code}, body ${JSON.stringify(e.body)}`);
    if (category) assert.equal(e.body.category, category);
    return e;
  }
  assert.fail(`expected HTTP ${code}`);
}

async function eventually(fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const email = (n) => `fidelity.${run}.${n}@client.example`;
let contactId;
let companyId;

await check('contacts: create, read, update, archive', async () => {
  const created = await crm.crm.contacts.basicApi.create({ properties: { email: email(1), firstname: 'Ada' } });
  assert.match(created.id, /^\d+$/);
  assert.ok(created.createdAt instanceof Date && !isNaN(created.createdAt));
  assert.equal(created.properties.email, email(1));
  contactId = created.id;
  const read = await crm.crm.contacts.basicApi.getById(contactId, ['email', 'firstname']);
  assert.equal(read.properties.firstname, 'Ada');
  const byEmail = await crm.crm.contacts.basicApi.getById(email(1), ['firstname'], undefined, undefined, false, 'email');
  assert.equal(byEmail.id, contactId);
  const updated = await crm.crm.contacts.basicApi.update(contactId, { properties: { firstname: 'Grace' } });
  assert.equal(updated.properties.firstname, 'Grace');
  const temp = await crm.crm.contacts.basicApi.create({ properties: { email: email(2) } });
  await crm.crm.contacts.basicApi.archive(temp.id);
  await expectApiError(crm.crm.contacts.basicApi.getById(temp.id), 404, 'OBJECT_NOT_FOUND');
});

await check('contacts: duplicate email is a 409 conflict', async () => {
  const e = await expectApiError(crm.crm.contacts.basicApi.create({ properties: { email: email(1) } }), 409, 'CONFLICT');
  assert.match(e.body.message, new RegExp(`Existing ID: ${contactId}`));
});

await check('contacts: list pages with after', async () => {
  const first = await crm.crm.contacts.basicApi.getPage(5);
  assert.equal(first.results.length, 5);
  assert.ok(first.paging && first.paging.next && first.paging.next.after);
  const second = await crm.crm.contacts.basicApi.getPage(5, first.paging.next.after);
  const ids = new Set(first.results.map((c) => c.id));
  assert.ok(second.results.every((c) => !ids.has(c.id)));
});

await check('contacts: batch create, read, update, upsert, archive', async () => {
  const inputs = [3, 4, 5].map((n) => ({ properties: { email: email(n), lastname: `L${n}` }, associations: [] }));
  const created = await crm.crm.contacts.batchApi.create({ inputs });
  assert.equal(created.status, 'COMPLETE');
  assert.equal(created.results.length, 3);
  const ids = created.results.map((c) => c.id);
  const read = await crm.crm.contacts.batchApi.read({ inputs: ids.map((id) => ({ id })), properties: ['lastname'], propertiesWithHistory: [] });
  assert.deepEqual(read.results.map((c) => c.properties.lastname).sort(), ['L3', 'L4', 'L5']);
  const updated = await crm.crm.contacts.batchApi.update({ inputs: ids.map((id) => ({ id, properties: { lastname: 'Same' } })) });
  assert.ok(updated.results.every((c) => c.properties.lastname === 'Same'));
  const upserted = await crm.crm.contacts.batchApi.upsert({
    inputs: [
      { id: email(3), idProperty: 'email', properties: { lastname: 'Up' } },
      { id: email(6), idProperty: 'email', properties: { lastname: 'New' } },
    ],
  });
  const byEmail = Object.fromEntries(upserted.results.map((r) => [r.properties.email, r]));
  assert.equal(byEmail[email(3)]._new ?? byEmail[email(3)]['new'], false);
  assert.equal(byEmail[email(6)]._new ?? byEmail[email(6)]['new'], true);
  await crm.crm.contacts.batchApi.archive({ inputs: ids.map((id) => ({ id })) });
  const after = await crm.crm.contacts.batchApi.read({ inputs: ids.map((id) => ({ id })), properties: [], propertiesWithHistory: [] });
  assert.equal(after.results.length, 0);
});

await check('contacts: search with filters, sorts and paging', async () => {
  const page = await eventually(async () => {
    const r = await crm.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email(1).toUpperCase() }] }],
      properties: ['email', 'firstname'],
      sorts: [],
      limit: 10,
      after: '0',
    });
    assert.equal(r.total, 1);
    return r;
  });
  assert.equal(page.results[0].id, contactId);
  const sorted = await crm.crm.contacts.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'email', operator: 'HAS_PROPERTY' }] }],
    properties: ['email'],
    sorts: ['createdate'],
    limit: 3,
    after: '0',
  }).catch(async () =>
    // The Spec types sorts as strings; the API wants objects. Either form must not break paging.
    crm.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'email', operator: 'HAS_PROPERTY' }] }],
      properties: ['email'],
      sorts: [{ propertyName: 'createdate', direction: 'ASCENDING' }],
      limit: 3,
      after: '0',
    }),
  );
  assert.equal(sorted.results.length, 3);
  assert.equal(sorted.paging.next.after, '3');
});

await check('properties and groups: create, read, validate values', async () => {
  const group = await crm.crm.properties.groupsApi.create('contacts', { name: `userflow_${run}`, label: 'Userflow', displayOrder: -1 });
  assert.equal(group.name, `userflow_${run}`);
  const prop = await crm.crm.properties.coreApi.create('contacts', {
    name: `userflow_user_score_${run}`,
    label: 'Score',
    type: 'number',
    fieldType: 'number',
    groupName: group.name,
  });
  assert.equal(prop.type, 'number');
  assert.deepEqual(prop.options, []);
  const got = await crm.crm.properties.coreApi.getByName('contacts', prop.name);
  assert.equal(got.groupName, group.name);
  const all = await crm.crm.properties.coreApi.getAll('contacts');
  assert.ok(all.results.some((p) => p.name === 'email'));
  await crm.crm.contacts.basicApi.update(contactId, { properties: { [prop.name]: '42' } });
  const bad = await expectApiError(
    crm.crm.contacts.basicApi.update(contactId, { properties: { [prop.name]: 'forty-two' } }),
    400,
    'VALIDATION_ERROR',
  );
  assert.equal(bad.body.errors[0].code, 'INVALID_INTEGER');
  const missing = await expectApiError(
    crm.crm.contacts.basicApi.update(contactId, { properties: { no_such_property: 'x' } }),
    400,
    'VALIDATION_ERROR',
  );
  assert.equal(missing.body.errors[0].code, 'PROPERTY_DOESNT_EXIST');
  await expectApiError(
    crm.crm.properties.coreApi.create('contacts', { name: `bad_${run}`, label: 'Bad', type: 'number', fieldType: 'text', groupName: group.name }),
    400,
  );
});

await check('companies and deals: create and read', async () => {
  const company = await crm.crm.companies.basicApi.create({ properties: { name: `Fidelity ${run}`, domain: `${run}.example` } });
  companyId = company.id;
  const read = await crm.crm.companies.basicApi.getById(companyId, ['domain']);
  assert.equal(read.properties.domain, `${run}.example`);
  const deal = await crm.crm.deals.basicApi.create({ properties: { dealname: 'Renewal', dealstage: 'appointmentscheduled', pipeline: 'default', amount: '1200' } });
  const readDeal = await crm.crm.deals.basicApi.getById(deal.id, ['amount']);
  assert.equal(readDeal.properties.amount, '1200');
});

await check('associations v4: create labeled, list, read on object, archive', async () => {
  const created = await crm.crm.associations.v4.basicApi.create('contacts', contactId, 'companies', companyId, [
    { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 },
  ]);
  assert.equal(String(created.toObjectId), String(companyId));
  const page = await crm.crm.associations.v4.basicApi.getPage('contacts', contactId, 'companies');
  const hit = page.results.find((r) => String(r.toObjectId) === String(companyId));
  assert.ok(hit, JSON.stringify(page));
  assert.ok(hit.associationTypes.some((t) => t.typeId === 279));
  const contact = await crm.crm.contacts.basicApi.getById(contactId, ['email'], undefined, ['companies']);
  assert.ok(contact.associations.companies.results.some((r) => String(r.id) === String(companyId)));
  await crm.crm.associations.v4.basicApi.archive('contacts', contactId, 'companies', companyId);
  const empty = await crm.crm.associations.v4.basicApi.getPage('contacts', contactId, 'companies');
  assert.ok(!empty.results.some((r) => String(r.toObjectId) === String(companyId)));
  const batch = await crm.crm.associations.v4.batchApi.createDefault('contacts', 'companies', {
    inputs: [{ _from: { id: contactId }, to: { id: companyId } }],
  });
  assert.ok(batch.results.length >= 1);
});

await check('custom objects: schema and records', async () => {
  const schema = await crm.crm.schemas.coreApi.create({
    name: `licence_${run}`,
    labels: { singular: 'Licence', plural: 'Licences' },
    primaryDisplayProperty: 'licence_key',
    requiredProperties: ['licence_key'],
    searchableProperties: ['licence_key'],
    secondaryDisplayProperties: [],
    properties: [{ name: 'licence_key', label: 'Key', type: 'string', fieldType: 'text' }],
    associatedObjects: ['CONTACT'],
  });
  assert.match(schema.objectTypeId, /^2-\d+$/);
  const rec = await crm.crm.objects.basicApi.create(schema.objectTypeId, { properties: { licence_key: 'K-1' } });
  const read = await crm.crm.objects.basicApi.getById(schema.objectTypeId, rec.id, ['licence_key']);
  assert.equal(read.properties.licence_key, 'K-1');
  await expectApiError(crm.crm.objects.basicApi.create(schema.objectTypeId, { properties: {} }), 400);
});

await check('timeline: template with tokens, event idempotent by id', async () => {
  const template = await dev.crm.timeline.templatesApi.create(appId, {
    name: `flow_started_${run}`,
    objectType: 'contacts',
    headerTemplate: 'Started {{flow_name}}',
    detailTemplate: 'Flow {{flow_name}} started',
    tokens: [{ name: 'flow_name', label: 'Flow', type: 'string' }],
  });
  assert.ok(template.id);
  const event = await app.crm.timeline.eventsApi.create({
    eventTemplateId: template.id,
    objectId: contactId,
    id: `uf-evt-${run}`,
    tokens: { flow_name: 'Onboarding' },
  });
  assert.equal(event.id, `uf-evt-${run}`);
  const again = await app.crm.timeline.eventsApi.create({
    eventTemplateId: template.id,
    objectId: contactId,
    id: `uf-evt-${run}`,
    tokens: { flow_name: 'Onboarding' },
  });
  assert.equal(again.id, event.id);
  const read = await app.crm.timeline.eventsApi.getById(template.id, event.id);
  assert.equal(read.tokens.flow_name, 'Onboarding');
  const batch = await app.crm.timeline.eventsApi.createBatch({
    inputs: [{ eventTemplateId: template.id, objectId: contactId, id: `uf-evt-${run}-b`, tokens: { flow_name: 'Tour' } }],
  });
  assert.equal(batch.results.length, 1);
});

await check('webhooks: settings, subscriptions and signed deliveries (v1 and v3)', async () => {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body, url: req.url });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const targetUrl = `http://127.0.0.1:${server.address().port}/webhooks/hubspot`;
  try {
    await dev.webhooks.settingsApi.configure(appId, { targetUrl, throttling: { maxConcurrentRequests: 10, period: 'SECONDLY' } });
    const settings = await dev.webhooks.settingsApi.getAll(appId);
    assert.equal(settings.targetUrl, targetUrl);
    const sub = await dev.webhooks.subscriptionsApi.create(appId, { eventType: 'contact.propertyChange', propertyName: 'lastname', active: true });
    assert.equal(sub.active, true);
    const subs = await dev.webhooks.subscriptionsApi.getAll(appId);
    assert.ok(subs.results.some((s) => s.id === sub.id));
    await crm.crm.contacts.basicApi.update(contactId, { properties: { lastname: `Hopper-${run}` } });
    const delivery = await eventually(async () => {
      const d = received.find((r) => r.body.includes(`Hopper-${run}`));
      assert.ok(d, 'no delivery yet');
      return d;
    });
    const v3 = Signature.isValid({
      signatureVersion: 'v3',
      signature: delivery.headers['x-hubspot-signature-v3'],
      clientSecret,
      requestBody: delivery.body,
      method: 'POST',
      url: targetUrl,
      timestamp: Number(delivery.headers['x-hubspot-request-timestamp']),
    });
    assert.ok(v3, 'v3 signature rejected by the client');
    const v1 = Signature.isValid({ signatureVersion: 'v1', signature: delivery.headers['x-hubspot-signature'], clientSecret, requestBody: delivery.body });
    assert.ok(v1, 'v1 signature rejected by the client');
    const events = JSON.parse(delivery.body);
    const ev = events.find((e) => e.propertyValue === `Hopper-${run}`);
    assert.equal(ev.subscriptionType, 'contact.propertyChange');
    assert.equal(ev.propertyName, 'lastname');
    assert.equal(String(ev.objectId), String(contactId));
    assert.equal(ev.appId, appId);
    await dev.webhooks.subscriptionsApi.archive(sub.id, appId);
  } finally {
    server.close();
  }
});

await check('errors: bad token is a 401 with HubSpot category', async () => {
  const bad = new Client({ accessToken: 'not-a-token', basePath: base, numberOfApiCallRetries: 0 });
  await expectApiError(bad.crm.contacts.basicApi.getPage(1), 401, 'INVALID_AUTHENTICATION');
});

console.log(JSON.stringify({ results }));
