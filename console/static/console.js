// vigil's operator console: plain JavaScript, no library, no build step.
// It reads the engine's API: GET /api/cameras (every 2 s), each streaming
// camera's GET /api/cameras/{id}/snapshot.jpg (a few at a time), GET
// /api/incidents (the history: on load, on a filter change, on every
// (re)connection of the stream) and /api/events (Server-Sent Events). Text
// from the API reaches the page only through textContent and attributes,
// never as HTML.
'use strict';

const MAX_INCIDENTS = 200; // incidents kept in the page, newest start first
const CAMERAS_EVERY = 2000; // ms between two GET /api/cameras
const PICTURE_EVERY = 3000; // ms between two pictures of one camera
const PICTURES_AT_ONCE = 2; // picture requests in flight (a browser opens 6 connections per host)
const PICTURE_TIMEOUT = 10000; // ms; the engine waits up to 5 s for the next analyzed frame
const RETRY_STREAM = 5000; // ms before reopening a stream the browser gave up
const EVENT_TYPES = ['vigil.incident.start', 'vigil.incident.update', 'vigil.incident.end'];
const KINDS = ['motion', 'intrusion', 'person', 'vehicle', 'crowd', 'loitering', 'tamper',
  'camera_offline', 'analysis_stalled', 'cluster_degraded'];

// api resolves a path against the page's origin: a page opened as
// http://user:pass@host/ has credentials in its own URL, which fetch refuses
// in a URL it resolves from it.
const api = (path) => new URL(path, location.origin).href;

const $ = (id) => document.getElementById(id);

// el makes an element; strings among children become text nodes.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c !== undefined && c !== null && c !== '') e.append(c);
  }
  return e;
}

function fmtTime(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const opts = {hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false};
  if (d.toDateString() !== new Date().toDateString()) {
    Object.assign(opts, {year: 'numeric', month: 'short', day: 'numeric'});
  }
  return d.toLocaleString(undefined, opts);
}

function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return s + ' s';
  if (s < 7200) return Math.round(s / 60) + ' min';
  return (s / 3600).toFixed(1) + ' h';
}

const num = (v, digits) => (typeof v === 'number' && isFinite(v) ? v.toFixed(digits) : '–');

// problems: what keeps the console from showing the engine's state.
const problems = new Map();

function problem(source, text) {
  if (text) problems.set(source, text);
  else problems.delete(source);
  const p = $('problem');
  p.textContent = [...problems.values()].join(' · ');
  p.hidden = problems.size === 0;
}

async function getJSON(path) {
  const res = await fetch(api(path), {cache: 'no-store'});
  if (!res.ok) {
    const body = (await res.text()).trim().slice(0, 200);
    throw new Error('GET ' + path.split('?')[0] + ': ' + res.status + (body ? ' ' + body : ''));
  }
  return res.json();
}

// ---- cameras ---------------------------------------------------------------

const cameras = new Map(); // id -> camera view

// cameraState is what an operator calls the camera's state: offline (no
// video), connecting, stalled (streaming but not analyzed) or streaming.
function cameraState(c) {
  if (c.offline_since) return 'offline';
  if (c.state === 'streaming') return c.analysis === 'stalled' ? 'stalled' : 'streaming';
  if (c.state === 'connecting') return 'connecting';
  return 'offline';
}

// activity: in decode mode auto, awake (every frame decoded) or idle
// (keyframes only).
function activity(c) {
  if (c.decode_mode !== 'auto' || cameraState(c) !== 'streaming') return '';
  return c.decoding_all_frames ? 'awake' : 'idle';
}

function figure(dl, name) {
  const dd = el('dd', {'data-figure': name.replace(/ /g, '-')});
  dl.append(el('dt', null, name), dd);
  return dd;
}

function newCamera(id) {
  const img = el('img', {class: 'picture', alt: 'last picture of ' + id});
  img.hidden = true;
  const none = el('div', {class: 'no-picture'}, 'no picture yet');
  const state = el('span', {class: 'badge state'});
  const act = el('span', {class: 'badge activity'});
  const dl = el('dl', {class: 'figures'});
  const v = {
    id, img, none, state, act,
    fpsIn: figure(dl, 'fps in'), fpsAnalyzed: figure(dl, 'analyzed'), decode: figure(dl, 'decode'),
    codec: figure(dl, 'codec'), since: figure(dl, 'since'), pictureAt: figure(dl, 'picture'),
    reason: el('p', {class: 'reason'}),
    card: null, status: null, loading: false, nextPicture: 0, blob: '',
  };
  v.card = el('article', {class: 'camera', 'data-camera': id},
    el('div', {class: 'frame'}, img, none),
    el('div', {class: 'head'}, el('h3', null, id), state, act),
    dl, v.reason);
  return v;
}

function updateCamera(v, c) {
  v.status = c;
  const st = cameraState(c);
  const act = activity(c);
  v.card.dataset.state = st;
  v.card.dataset.activity = act;
  v.state.textContent = st;
  v.state.dataset.state = st;
  v.act.textContent = act;
  v.act.hidden = !act;
  v.fpsIn.textContent = num(c.fps_in, 1);
  v.fpsAnalyzed.textContent = num(c.fps_analyzed, 1);
  v.decode.textContent = (c.decode_mode || '') + (c.overload_step && c.overload_step !== 'full' ? ' (' + c.overload_step + ')' : '');
  v.codec.textContent = [c.codec, c.transport].filter(Boolean).join(' / ') || '–';
  v.since.textContent = fmtTime(c.offline_since || c.since);
  v.none.textContent = st === 'streaming' ? 'no picture yet' : 'no video';
  const why = [];
  if (st === 'offline' || st === 'connecting') why.push(c.reason, c.last_error);
  if (st === 'stalled') why.push('analysis ' + (c.analysis_cause || 'stalled'));
  v.reason.textContent = why.filter(Boolean).join(': ');
}

async function pollCameras() {
  try {
    const list = await getJSON('/api/cameras');
    problem('cameras', '');
    const seen = new Set();
    for (const c of list) {
      seen.add(c.id);
      let v = cameras.get(c.id);
      if (!v) {
        v = newCamera(c.id);
        cameras.set(c.id, v);
      }
      updateCamera(v, c);
    }
    for (const [id, v] of cameras) {
      if (!seen.has(id)) {
        if (v.blob) URL.revokeObjectURL(v.blob);
        v.card.remove();
        cameras.delete(id);
      }
    }
    const grid = $('cameras');
    const cards = [...cameras.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((v) => v.card);
    if (cards.some((c, i) => grid.children[i] !== c)) grid.append(...cards);
    $('camera-count').textContent = String(cameras.size);
    document.body.dataset.cameras = 'loaded';
    fillCameraFilter();
  } catch (e) {
    problem('cameras', e.message);
  } finally {
    setTimeout(pollCameras, CAMERAS_EVERY);
  }
}

// pumpPictures starts the pictures that are due, a few at a time, of the
// streaming cameras, while the page is visible.
function pumpPictures() {
  if (document.hidden) return;
  const now = Date.now();
  const all = [...cameras.values()];
  let busy = all.filter((v) => v.loading).length;
  const due = all.filter((v) => !v.loading && v.nextPicture <= now && v.card.dataset.state === 'streaming')
    .sort((a, b) => a.nextPicture - b.nextPicture);
  for (const v of due) {
    if (busy >= PICTURES_AT_ONCE) break;
    busy++;
    loadPicture(v);
  }
}

async function loadPicture(v) {
  v.loading = true;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), PICTURE_TIMEOUT);
  try {
    const res = await fetch(api('/api/cameras/' + encodeURIComponent(v.id) + '/snapshot.jpg'),
      {cache: 'no-store', signal: ctl.signal});
    if (!res.ok) throw new Error(String(res.status));
    const blob = URL.createObjectURL(await res.blob());
    await new Promise((resolve, reject) => {
      v.img.onload = resolve;
      v.img.onerror = reject;
      v.img.src = blob;
    });
    if (v.blob) URL.revokeObjectURL(v.blob);
    v.blob = blob;
    v.img.hidden = false;
    v.none.hidden = true;
    v.pictureAt.textContent = fmtTime(new Date().toISOString());
  } catch {
    // the next try shows it; the state badge says why there is none
  } finally {
    clearTimeout(timer);
    v.loading = false;
    v.nextPicture = Date.now() + PICTURE_EVERY;
  }
}

// ---- incidents -------------------------------------------------------------

const incidents = new Map(); // incident id -> incident view

const incidentKey = (ev) => (ev.data && ev.data.incident_id) || ev.id;

function scoreText(d) {
  const s = d.score;
  if (typeof s !== 'number') return '';
  switch (d.kind) {
    case 'motion': case 'intrusion': return (s * 100).toFixed(1) + ' % of the frame';
    case 'tamper': return (s * 100).toFixed(0) + ' % past threshold';
    case 'person': case 'crowd': return s + (s === 1 ? ' person' : ' people');
    case 'vehicle': return s + (s === 1 ? ' vehicle' : ' vehicles');
    case 'loitering': return s.toFixed(0) + ' s in the zone';
  }
  return '';
}

// evidenceSrc is the URL of an incident's best picture (else its start's):
// a file of the evidence store, or the JPEG the event embeds.
function evidenceSrc(list, time) {
  const pick = (list || []).find((e) => e.role === 'best') || (list || []).find((e) => e.role === 'start');
  if (!pick) return '';
  if (pick.path) {
    const p = '/api/evidence/' + pick.path.split('/').map(encodeURIComponent).join('/');
    // A best picture is replaced under the same name: ask again at each event.
    return api(pick.role === 'best' ? p + '?at=' + encodeURIComponent(time) : p);
  }
  if (pick.jpeg_base64 && /^[A-Za-z0-9+/=]+$/.test(pick.jpeg_base64)) return 'data:image/jpeg;base64,' + pick.jpeg_base64;
  return '';
}

// merge applies an event (from the history or the stream) to its incident:
// an older event than the one shown, or anything after its end, is ignored,
// except for the objects and pictures it brings.
function merge(ev, via) {
  if (!ev || !ev.data) return;
  const k = incidentKey(ev);
  let v = incidents.get(k);
  if (!v) {
    v = {key: k, ev: null, objects: [], evidence: new Map(), node: null, via};
    incidents.set(k, v);
  }
  const d = ev.data;
  if (Array.isArray(d.objects) && d.objects.length) v.objects = d.objects;
  for (const e of d.evidence || []) v.evidence.set(e.role, e);
  const newer = !v.ev || (v.ev.type !== EVENT_TYPES[2] && Date.parse(ev.time) >= Date.parse(v.ev.time));
  if (newer) {
    v.ev = ev;
    v.via = via;
  }
  renderIncident(v);
  scheduleList();
}

function renderIncident(v) {
  const ev = v.ev;
  const d = ev.data;
  const open = ev.type !== EVENT_TYPES[2] && !d.ended_at;
  const src = evidenceSrc([...v.evidence.values()], ev.time);
  if (!v.node) {
    v.img = el('img', {class: 'evidence', alt: ''});
    v.noImg = el('div', {class: 'no-evidence'}, 'no snapshot');
    v.kind = el('span', {class: 'badge kind'});
    v.camera = el('span', {class: 'camera-name'});
    v.stateBadge = el('span', {class: 'badge'});
    v.when = el('p', {class: 'when'});
    v.measure = el('p', {class: 'measure'});
    v.objectList = el('ul', {class: 'objects'});
    v.node = el('li', {class: 'incident'},
      el('div', {class: 'thumb'}, v.img, v.noImg),
      el('div', {class: 'body'}, el('div', {class: 'head'}, v.kind, v.camera, v.stateBadge), v.when, v.measure, v.objectList));
  }
  const n = v.node;
  n.dataset.incident = v.key;
  n.dataset.camera = d.camera || '';
  n.dataset.kind = d.kind || '';
  n.dataset.state = open ? 'open' : 'ended';
  n.dataset.via = v.via;
  n.dataset.started = d.started_at || ev.time;
  v.kind.textContent = d.kind || '?';
  v.kind.dataset.kind = d.kind || '';
  v.camera.textContent = d.camera || '';
  v.stateBadge.textContent = open ? 'open' : 'ended';
  v.stateBadge.dataset.state = open ? 'open' : 'ended';
  const started = d.started_at || ev.time;
  let when = fmtTime(started);
  if (d.ended_at) when += ', ' + fmtDuration(Date.parse(d.ended_at) - Date.parse(started));
  if (d.zone) when += ' · zone ' + d.zone;
  v.when.textContent = when;
  v.measure.textContent = [d.cause, scoreText(d)].filter(Boolean).join(' · ');
  if (src && v.img.getAttribute('src') !== src) {
    v.img.src = src;
    v.img.alt = 'snapshot of ' + (d.kind || 'incident') + ' on ' + (d.camera || '');
  }
  v.img.hidden = !src;
  v.noImg.hidden = !!src;
  const items = v.objects.map((o) => el('li', {'data-label': o.label || ''},
    el('span', {class: 'label'}, o.label || '?'), ' ', num(o.score, 2),
    o.track_id ? el('span', {class: 'track', title: 'track ' + o.track_id}, ' #' + String(o.track_id).slice(0, 8)) : null));
  v.objectList.replaceChildren(...items);
  v.objectList.hidden = items.length === 0;
}

let listPending = false;

// scheduleList re-sorts, bounds and filters the list once per frame.
function scheduleList() {
  if (listPending) return;
  listPending = true;
  requestAnimationFrame(() => {
    listPending = false;
    renderList();
  });
}

const startedMs = (v) => Date.parse(v.ev.data.started_at || v.ev.time) || 0;

function renderList() {
  let all = [...incidents.values()].sort((a, b) => startedMs(b) - startedMs(a));
  for (const v of all.slice(MAX_INCIDENTS)) {
    v.node.remove();
    incidents.delete(v.key);
  }
  all = all.slice(0, MAX_INCIDENTS);
  const list = $('incidents');
  if (all.some((v, i) => list.children[i] !== v.node)) list.append(...all.map((v) => v.node));
  applyFilters();
  fillCameraFilter();
  fillKindFilter();
}

// ---- filters ---------------------------------------------------------------

function filters() {
  const f = {camera: $('filter-camera').value, kind: $('filter-kind').value, open: $('filter-open').checked, since: null, until: null};
  const r = $('filter-range').value;
  if (r === 'custom') {
    const from = Date.parse($('filter-from').value);
    const to = Date.parse($('filter-to').value);
    if (!isNaN(from)) f.since = from;
    if (!isNaN(to)) f.until = to;
  } else if (r) {
    f.since = Date.now() - Number(r) * 1000;
  }
  return f;
}

function matches(v, f) {
  const d = v.ev.data;
  const t = startedMs(v);
  return (!f.camera || d.camera === f.camera) && (!f.kind || d.kind === f.kind) &&
    (!f.open || v.node.dataset.state === 'open') && (f.since === null || t >= f.since) && (f.until === null || t < f.until);
}

function applyFilters() {
  const f = filters();
  let shown = 0;
  for (const v of incidents.values()) {
    const ok = matches(v, f);
    v.node.hidden = !ok;
    if (ok) shown++;
  }
  $('incident-count').textContent = shown === incidents.size ? String(shown) : shown + ' of ' + incidents.size;
  $('no-incidents').hidden = shown > 0;
}

// fillSelect keeps a select's options to values (sorted), keeping its choice.
function fillSelect(sel, values) {
  const want = ['', ...[...values].sort()];
  const have = [...sel.options].map((o) => o.value);
  if (want.length === have.length && want.every((x, i) => x === have[i])) return;
  const keep = sel.value;
  sel.replaceChildren(...want.map((x) => el('option', {value: x}, x || 'all')));
  sel.value = want.includes(keep) ? keep : '';
}

function fillCameraFilter() {
  const ids = new Set(cameras.keys());
  for (const v of incidents.values()) if (v.ev.data.camera) ids.add(v.ev.data.camera);
  const sel = $('filter-camera');
  if (sel.value) ids.add(sel.value);
  fillSelect(sel, ids);
}

function fillKindFilter() {
  const kinds = new Set(KINDS);
  for (const v of incidents.values()) if (v.ev.data.kind) kinds.add(v.ev.data.kind);
  fillSelect($('filter-kind'), kinds);
}

let historyRun = 0;

// loadHistory asks the history for the incidents the filters select (the
// newest MAX_INCIDENTS) and merges them into the list.
async function loadHistory() {
  const run = ++historyRun;
  const f = filters();
  const q = new URLSearchParams({limit: String(MAX_INCIDENTS)});
  if (f.camera) q.set('camera', f.camera);
  if (f.kind) q.set('kind', f.kind);
  if (f.since !== null) q.set('since', new Date(f.since).toISOString());
  if (f.until !== null) q.set('until', new Date(f.until).toISOString());
  try {
    const page = await getJSON('/api/incidents?' + q);
    if (run !== historyRun) return; // a newer request answers
    for (const ev of page.incidents || []) merge(ev, 'history');
    problem('history', '');
  } catch (e) {
    problem('history', e.message);
  } finally {
    if (run === historyRun) document.body.dataset.history = 'loaded';
    scheduleList();
  }
}

function onFilter() {
  const custom = $('filter-range').value === 'custom';
  for (const l of document.querySelectorAll('.filters .custom')) l.hidden = !custom;
  applyFilters();
  loadHistory();
}

// ---- live stream -----------------------------------------------------------

let lastEventID = '';

// connect opens the live stream. The browser reconnects by itself, sending
// Last-Event-ID so that the engine replays what was missed; when it gives
// up (an answer that is not a stream), connect tries again with the last
// id as a parameter. Each opening also reloads the history, which holds
// what a replay could not.
function connect() {
  const path = lastEventID ? '/api/events?last_event_id=' + encodeURIComponent(lastEventID) : '/api/events';
  const es = new EventSource(api(path));
  const live = $('live');
  const show = (s, text) => {
    live.dataset.live = s;
    live.textContent = text;
  };
  show('connecting', 'connecting');
  es.onopen = () => {
    show('open', 'live');
    problem('stream', '');
    loadHistory();
  };
  const onEvent = (m) => {
    if (m.lastEventId) lastEventID = m.lastEventId;
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch {
      return;
    }
    merge(ev, 'live');
  };
  for (const t of EVENT_TYPES) es.addEventListener(t, onEvent);
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      show('closed', 'disconnected');
      problem('stream', 'live incident stream refused; retrying');
      setTimeout(connect, RETRY_STREAM);
    } else {
      show('reconnecting', 'reconnecting');
    }
  };
}

function start() {
  for (const id of ['filter-camera', 'filter-kind', 'filter-range', 'filter-from', 'filter-to', 'filter-open']) {
    $(id).addEventListener('change', onFilter);
  }
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  fillKindFilter();
  pollCameras();
  setInterval(pumpPictures, 500);
  loadHistory(); // also when the stream cannot open
  connect();
  // The time window moves: re-apply it now and then.
  setInterval(applyFilters, 30000);
}

start();
