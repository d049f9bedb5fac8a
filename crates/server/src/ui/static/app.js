// certfleet web UI: the few things pages do with the JSON API (log in and out, add,
// move or delete a domain, store a pasted bundle, download a certificate, make a CA,
// sign a CSR, issue a domain's certificate from a CA, plan and apply a platform after a
// confirmation), the add form's parent search, and zoom and pan of the trust graph. Changes carry the session's
// CSRF token from the page's <meta name="csrf-token">. No inline handlers: the admin
// listener's CSP allows scripts from this file only.
'use strict';

(function () {
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = csrfToken();
    if (token) headers['X-CSRF-Token'] = token;
    return fetch(path, {
      method: method,
      headers: headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  // The server's error message (and error id for a 500), else the status.
  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') {
        return body.error_id ? body.error + ' (error id ' + body.error_id + ')' : body.error;
      }
    } catch (_) {
      // not JSON: fall through
    }
    return 'The server answered ' + response.status + ' ' + response.statusText + '.';
  }

  function say(form, role, text) {
    const box = form.querySelector('[data-role="' + role + '"]');
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function clear(form) {
    say(form, 'error', '');
    say(form, 'ok', '');
  }

  function domainPath(form) {
    return '/api/domains/' + encodeURIComponent(form.dataset.domain || '');
  }

  // A change refused for want of a session (it timed out): log in again.
  function sessionEnded(response) {
    if (response.status === 401 && csrfToken()) {
      window.location.assign('/ui/login');
      return true;
    }
    return false;
  }

  function onSubmit(id, handler) {
    const form = document.getElementById(id);
    if (!form) return;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      clear(form);
      form.setAttribute('aria-busy', 'true');
      handler(form, event.submitter)
        .catch(function (err) {
          say(form, 'error', 'The request failed: ' + err.message);
        })
        .finally(function () {
          form.removeAttribute('aria-busy');
        });
    });
  }

  onSubmit('login-form', async function (form) {
    const field = form.elements.namedItem('token');
    const token = field.value.trim();
    if (!token) {
      say(form, 'error', 'Enter the admin token.');
      field.focus();
      return;
    }
    const response = await api('POST', '/api/session', { token: token });
    if (response.ok) {
      field.value = '';
      window.location.assign('/ui/');
      return;
    }
    say(form, 'error', response.status === 401 ? 'That is not the admin token.' : await errorText(response));
    field.select();
  });

  onSubmit('logout-form', async function () {
    await api('DELETE', '/api/session');
    window.location.assign('/ui/login');
  });

  onSubmit('add-domain-form', async function (form) {
    const name = form.elements.namedItem('name').value.trim();
    const parent = form.elements.namedItem('parent').value;
    const body = { name: name };
    if (parent) body.parent = parent;
    const response = await api('POST', '/api/domains', body);
    if (response.status === 201) {
      const added = await response.json();
      window.location.assign('/ui/domains/' + encodeURIComponent(added.name));
      return;
    }
    if (sessionEnded(response)) return;
    say(form, 'error', await errorText(response));
    form.elements.namedItem('name').focus();
  });

  // A parent field (the add form's, the Move form's) offers the domains whose names hold
  // what was typed, asked of the server as one types (a page never lists every domain);
  // the Move form's asks only for the domains its domain may move under.
  document.querySelectorAll('input[data-parent-search]').forEach(function (field) {
    const choices = field.list;
    if (!choices) return;
    let timer = null;
    let asked = null;
    field.addEventListener('input', function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(async function () {
        const text = field.value.trim();
        if (text === asked) return;
        asked = text;
        let path = '/ui/parents?q=' + encodeURIComponent(text);
        if (field.dataset.for) path += '&for=' + encodeURIComponent(field.dataset.for);
        const response = await api('GET', path);
        if (!response.ok || asked !== text) return;
        const found = await response.json();
        choices.replaceChildren.apply(choices, found.names.map(function (name) {
          const option = document.createElement('option');
          option.value = name;
          return option;
        }));
      }, 150);
    });
  });

  onSubmit('bundle-form', async function (form) {
    const pem = form.elements.namedItem('pem').value;
    const force = form.elements.namedItem('force').checked;
    const response = await api('PUT', domainPath(form) + '/certificate', { pem: pem, force: force });
    if (sessionEnded(response)) return;
    if (!response.ok) {
      say(form, 'error', 'Not stored: ' + (await errorText(response)));
      form.elements.namedItem('pem').focus();
      return;
    }
    const result = await response.json();
    const warnings = (result.warnings || []).map(function (w) {
      return typeof w === 'string' ? w : w.message || JSON.stringify(w);
    });
    if (warnings.length === 0) {
      window.location.assign(window.location.pathname + '?stored=1');
      return;
    }
    form.elements.namedItem('pem').value = '';
    say(form, 'ok', 'Stored and served, with warnings: ' + warnings.join(' ') + ' Reload the page to see the new certificate.');
  });

  onSubmit('issue-form', async function (form) {
    const body = {
      ca: form.elements.namedItem('ca').value,
      days: Number(form.elements.namedItem('days').value),
    };
    const response = await api('POST', domainPath(form) + '/certificate/issue', body);
    if (sessionEnded(response)) return;
    if (!response.ok) {
      say(form, 'error', 'Not issued: ' + (await errorText(response)));
      form.elements.namedItem('ca').focus();
      return;
    }
    window.location.assign(window.location.pathname + '?stored=1');
  });

  // Move a domain (and its branch) under another parent; the page shows the result.
  onSubmit('move-form', async function (form) {
    const parent = form.elements.namedItem('parent').value;
    const response = await api('PUT', domainPath(form) + '/parent', { parent: parent });
    if (sessionEnded(response)) return;
    if (!response.ok) {
      say(form, 'error', 'Not moved: ' + (await errorText(response)));
      form.elements.namedItem('parent').focus();
      return;
    }
    window.location.reload();
  });

  // Delete a domain, with the domains below it, once the browser's confirmation (which
  // names the domain and how many go with it) is accepted.
  onSubmit('delete-form', async function (form) {
    if (!window.confirm(form.dataset.confirm || 'Delete this domain?')) return;
    const recursive = Number(form.dataset.below || '0') > 0 ? '?recursive=true' : '';
    const response = await api('DELETE', domainPath(form) + recursive);
    if (sessionEnded(response)) return;
    if (!response.ok) {
      say(form, 'error', 'Not deleted: ' + (await errorText(response)));
      return;
    }
    window.location.assign('/ui/domains');
  });

  onSubmit('create-ca-form', async function (form) {
    const field = function (name) { return form.elements.namedItem(name).value.trim(); };
    const body = {
      name: field('name'),
      cn: field('cn'),
      key: field('key'),
      days: Number(field('days')),
    };
    if (field('intermediate_cn')) body.intermediate_cn = field('intermediate_cn');
    const response = await api('POST', '/api/cas', body);
    if (sessionEnded(response)) return;
    if (response.status !== 201) {
      say(form, 'error', 'Not made: ' + (await errorText(response)));
      form.elements.namedItem('name').focus();
      return;
    }
    window.location.assign('/ui/cas');
  });

  // What a pasted CSR asks for, shown before it is signed.
  const csrField = document.getElementById('sign-csr');
  if (csrField) {
    csrField.addEventListener('change', async function () {
      const form = csrField.form;
      say(form, 'csr', '');
      if (!csrField.value.trim()) return;
      const response = await api('POST', '/api/csrs/inspect', { csr: csrField.value });
      if (!response.ok) {
        say(form, 'csr', 'Not a CSR: ' + (await errorText(response)));
        return;
      }
      const csr = await response.json();
      const names = csr.sans ? csr.sans.join(', ') : 'none (the CN is used)';
      say(form, 'csr', 'Asks for ' + csr.subject + '; names: ' + names + '; key: ' + csr.key_type + ' ' + csr.key_bits + ' bits; signature ' + (csr.signature_valid ? 'valid' : 'INVALID') + '.');
    });
  }

  onSubmit('sign-csr-form', async function (form) {
    const result = form.querySelector('[data-role="result"]');
    result.hidden = true;
    const ca = form.elements.namedItem('ca').value;
    const body = {
      csr: form.elements.namedItem('csr').value,
      usage: form.elements.namedItem('usage').value,
      days: Number(form.elements.namedItem('days').value),
    };
    const response = await api('POST', '/api/cas/' + encodeURIComponent(ca) + '/sign', body);
    if (sessionEnded(response)) return;
    if (!response.ok) {
      say(form, 'error', 'Not signed: ' + (await errorText(response)));
      form.elements.namedItem('csr').focus();
      return;
    }
    const signed = await response.json();
    const output = form.elements.namedItem('result');
    output.value = signed.certificate + signed.chain;
    result.hidden = false;
    say(form, 'ok', 'Signed ' + signed.subject + ' (SHA-1 ' + signed.sha1_thumbprint + '), valid until ' + signed.not_after + '.');
    output.focus();
    output.select();
  });

  // The file name of a Content-Disposition header.
  function fileName(header) {
    const match = /filename="([^"]+)"/.exec(header || '');
    return match ? match[1] : 'certificate';
  }

  onSubmit('export-form', async function (form) {
    const format = form.elements.namedItem('format').value;
    const password = form.elements.namedItem('password');
    const body = { format: format };
    if (format === 'pkcs12' || format === 'jks') body.password = password.value;
    const response = await api('POST', domainPath(form) + '/certificate/export', body);
    if (sessionEnded(response)) return;
    if (!response.ok) {
      say(form, 'error', 'Not downloaded: ' + (await errorText(response)));
      return;
    }
    const name = fileName(response.headers.get('Content-Disposition'));
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    password.value = '';
    say(form, 'ok', 'Downloaded ' + name + '.');
  });
  // Plan or apply a platform. An apply changes what the page shows, so the page is
  // loaded again with the outcome kept for it in sessionStorage.
  const PLATFORM_OUTCOME = 'certfleet-platform-outcome';
  const runForm = document.getElementById('platform-run-form');
  if (runForm) {
    const kept = window.sessionStorage.getItem(PLATFORM_OUTCOME);
    if (kept) {
      window.sessionStorage.removeItem(PLATFORM_OUTCOME);
      const outcome = JSON.parse(kept);
      say(runForm, outcome.failed ? 'error' : 'ok', outcome.text);
    }
  }

  function applyOutcome(report) {
    const failed = report.reloads.filter(function (r) { return !r.ok && !r.skipped; });
    const skipped = report.reloads.filter(function (r) { return r.skipped; });
    const ran = report.reloads.filter(function (r) { return r.ok; });
    let text = 'Applied: ' + report.changes.length + ' change(s), ' + report.files_written + ' file(s) written';
    if (ran.length) text += '; reloaded ' + ran.map(function (r) { return r.service; }).join(', ');
    if (skipped.length) text += '; reloads left pending for ' + skipped.map(function (r) { return r.service; }).join(', ');
    if (failed.length) text += '; the reload of ' + failed.map(function (r) { return r.service + ' (exit ' + r.exit_status + ')'; }).join(', ') + ' FAILED and will run again on the next apply';
    return { text: text + '.', failed: failed.length > 0 };
  }

  // Apply asks first: a dialog names the platform and what will change, and only its
  // Apply button goes on (Cancel or Escape applies nothing).
  function confirmApply() {
    const dialog = document.getElementById('apply-dialog');
    if (!dialog || typeof dialog.showModal !== 'function') {
      return Promise.resolve(window.confirm('Apply this platform?'));
    }
    return new Promise(function (resolve) {
      dialog.returnValue = '';
      dialog.addEventListener('close', function () {
        resolve(dialog.returnValue === 'apply');
      }, { once: true });
      dialog.showModal();
    });
  }

  onSubmit('platform-run-form', async function (form, submitter) {
    const action = submitter && submitter.value === 'apply' ? 'apply' : 'plan';
    if (action === 'apply' && !(await confirmApply())) {
      say(form, 'ok', 'Not applied: cancelled.');
      return;
    }
    const path = '/api/platforms/' + encodeURIComponent(form.dataset.platform || '') + '/' + action;
    const response = await api('POST', path);
    if (sessionEnded(response)) return;
    if (!response.ok) {
      say(form, 'error', (action === 'apply' ? 'Not applied: ' : 'Not planned: ') + (await errorText(response)));
      return;
    }
    const report = await response.json();
    if (action === 'plan') {
      say(form, 'ok', report.changes.length === 0
        ? 'Planned: the platform is current.'
        : 'Planned: ' + report.changes.length + ' change(s), as listed above.');
      return;
    }
    window.sessionStorage.setItem(PLATFORM_OUTCOME, JSON.stringify(applyOutcome(report)));
    window.location.reload();
  });

  // Zoom and pan of a drawing (the trust graph): its viewBox moves, the layout made on
  // the server stays. Buttons zoom in, out and back to the whole drawing; the wheel
  // zooms at the pointer; dragging pans; the arrow keys pan and + / - zoom when the
  // drawing has the focus.
  document.querySelectorAll('[data-zoom]').forEach(function (figure) {
    const svg = figure.querySelector('svg');
    if (!svg) return;
    const original = svg.getAttribute('viewBox');
    const whole = original.split(/[ ,]+/).map(Number);
    let view = whole.slice();
    function show() {
      svg.setAttribute('viewBox', view.map(function (v) { return v.toFixed(1); }).join(' '));
    }
    function fit() {
      view = whole.slice();
      svg.setAttribute('viewBox', original);
    }
    function zoom(factor, cx, cy) {
      const width = Math.min(whole[2] * 4, Math.max(whole[2] / 8, view[2] * factor));
      const scale = width / view[2];
      const x = cx === undefined ? view[0] + view[2] / 2 : cx;
      const y = cy === undefined ? view[1] + view[3] / 2 : cy;
      view = [x - (x - view[0]) * scale, y - (y - view[1]) * scale, view[2] * scale, view[3] * scale];
      show();
    }
    function pan(dx, dy) {
      view[0] += dx;
      view[1] += dy;
      show();
    }
    function pointAt(event) {
      const box = svg.getBoundingClientRect();
      return [
        view[0] + (event.clientX - box.left) / box.width * view[2],
        view[1] + (event.clientY - box.top) / box.height * view[3],
      ];
    }
    figure.querySelectorAll('button[data-zoom-action]').forEach(function (button) {
      button.addEventListener('click', function () {
        const what = button.dataset.zoomAction;
        if (what === 'in') zoom(1 / 1.25);
        else if (what === 'out') zoom(1.25);
        else fit();
      });
    });
    svg.addEventListener('wheel', function (event) {
      event.preventDefault();
      const at = pointAt(event);
      zoom(event.deltaY < 0 ? 1 / 1.15 : 1.15, at[0], at[1]);
    }, { passive: false });
    let drag = null;
    svg.addEventListener('pointerdown', function (event) {
      drag = { x: event.clientX, y: event.clientY };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener('pointermove', function (event) {
      if (!drag) return;
      const box = svg.getBoundingClientRect();
      pan(-(event.clientX - drag.x) / box.width * view[2], -(event.clientY - drag.y) / box.height * view[3]);
      drag = { x: event.clientX, y: event.clientY };
    });
    svg.addEventListener('pointerup', function () { drag = null; });
    svg.addEventListener('pointercancel', function () { drag = null; });
    figure.addEventListener('keydown', function (event) {
      const step = view[2] / 10;
      const keys = {
        ArrowLeft: function () { pan(-step, 0); },
        ArrowRight: function () { pan(step, 0); },
        ArrowUp: function () { pan(0, -step); },
        ArrowDown: function () { pan(0, step); },
        '+': function () { zoom(1 / 1.25); },
        '-': function () { zoom(1.25); },
        '0': fit,
      };
      if (event.target !== figure || !keys[event.key]) return;
      event.preventDefault();
      keys[event.key]();
    });
  });

  // A new enrolment token for a node, shown once with the line to run on the node.
  document.querySelectorAll('form.node-token-form').forEach(function (tokenForm) {
    onSubmit(tokenForm.id, async function (form) {
      const path = '/api/platforms/' + encodeURIComponent(form.dataset.platform || '') +
        '/nodes/' + encodeURIComponent(form.dataset.node || '') + '/tokens';
      const response = await api('POST', path, {});
      if (sessionEnded(response)) return;
      if (!response.ok) {
        say(form, 'error', 'No token made: ' + (await errorText(response)));
        return;
      }
      const made = await response.json();
      const line = form.querySelector('[data-role="line"]');
      const label = form.querySelector('[data-role="line-label"]');
      line.value = 'certfleet agent enroll --server ' + (form.dataset.server || '') + ' --token ' + made.token;
      line.hidden = false;
      label.hidden = false;
      say(form, 'ok', 'Token made for ' + made.node + ', valid until ' + made.expires_at + '. It is not shown again.');
      line.focus();
      line.select();
    });
  });

  // Revoke a node's agent; the page is loaded again to show it not enrolled.
  document.querySelectorAll('form.node-revoke-form').forEach(function (revokeForm) {
    onSubmit(revokeForm.id, async function (form) {
      const path = '/api/platforms/' + encodeURIComponent(form.dataset.platform || '') +
        '/nodes/' + encodeURIComponent(form.dataset.node || '');
      const response = await api('DELETE', path);
      if (sessionEnded(response)) return;
      if (!response.ok) {
        say(form, 'error', 'Not revoked: ' + (await errorText(response)));
        return;
      }
      window.location.reload();
    });
  });
})();
