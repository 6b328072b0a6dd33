import { CONTENT_SECURITY_POLICY } from '../../kernel/web/security-headers';

/**
 * The sign-up form's proof-of-work script (served as /subscribe/challenge.js when SUBSCRIBE_CHALLENGE=pow; no inline
 * script, so the pages keep their strict content security policy). On submit it fetches a fresh challenge, finds an
 * answer whose SHA-256 of `token:answer` starts with the asked number of zero bits (SHA-256 in plain JavaScript:
 * WebCrypto is missing on plain-http origins and costs a promise per hash), fills the hidden fields and submits.
 */
export const SIGNUP_CHALLENGE_SCRIPT = `(function () {
  'use strict';
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
    0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
    0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
    0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);
  var H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  var m = new Uint32Array(64);

  /** SHA-256 of an ASCII string (the token and answer are ASCII), as eight 32-bit words. */
  function sha256(text) {
    var n = text.length, words = ((n + 8) >> 6) * 16 + 16, w = new Uint32Array(words), h = new Uint32Array(H0), i;
    for (i = 0; i < n; i++) w[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i & 3) * 8);
    w[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
    w[words - 1] = n * 8;
    for (var off = 0; off < words; off += 16) {
      for (i = 0; i < 16; i++) m[i] = w[off + i];
      for (i = 16; i < 64; i++) {
        var x = m[i - 15], y = m[i - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        m[i] = (m[i - 16] + s0 + m[i - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (i = 0; i < 64; i++) {
        var t1 = (k + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i] + m[i]) | 0;
        var t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    return h;
  }

  function zeroBits(h) {
    for (var i = 0, bits = 0; i < 8; i++, bits += 32) if (h[i] !== 0) return bits + Math.clz32(h[i]);
    return 256;
  }

  /** Looks for an answer in slices, so the page stays responsive. */
  function solve(token, bits, done) {
    var n = 0;
    (function slice() {
      for (var end = n + 20000; n < end; n++) if (zeroBits(sha256(token + ':' + n)) >= bits) return done(String(n));
      setTimeout(slice, 0);
    })();
  }

  function field(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  function attach(form) {
    var status = document.createElement('p');
    status.className = 'challenge-status';
    status.setAttribute('role', 'status');
    form.appendChild(status);
    form.addEventListener('submit', function (event) {
      if (form.getAttribute('data-solved') === '1') return;
      event.preventDefault();
      var buttons = form.querySelectorAll('button');
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      status.textContent = 'Checking that you are not a robot\\u2026';
      fetch('/api/v1/public/subscribe/challenge', { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (res) {
          if (!res.ok) throw new Error('HTTP ' + res.status);
          return res.json();
        })
        .then(function (challenge) {
          solve(challenge.token, challenge.bits, function (answer) {
            field(form, 'challenge_token', challenge.token);
            field(form, 'challenge_answer', answer);
            form.setAttribute('data-solved', '1');
            status.textContent = 'Sending\\u2026';
            form.submit();
          });
        })
        .catch(function () {
          for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
          status.textContent = 'The sign-up check could not start. Please reload the page and try again.';
        });
    });
  }

  var forms = document.querySelectorAll('form[data-challenge="pow"]');
  for (var i = 0; i < forms.length; i++) attach(forms[i]);
})();
`;

/**
 * The policy of a page that carries the script (the sign-up page, and every page with the sign-up panel when
 * SUBSCRIBE_CHALLENGE=pow): the default one plus this origin's script and fetch.
 */
export const CHALLENGE_PAGE_POLICY = Object.entries({ ...CONTENT_SECURITY_POLICY, 'script-src': ["'self'"], 'connect-src': ["'self'"] })
  .map(([directive, values]) => `${directive} ${values.join(' ')}`)
  .join('; ');
