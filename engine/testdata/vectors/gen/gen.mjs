// gen.mjs writes ../jose.json: test vectors for jwtgate made by an
// implementation that shares no code with it (panva/jose on Node's WebCrypto),
// plus the worked examples of RFC 7515 Appendix A, RFC 7520 §4 and RFC 8037
// Appendix A.4, each checked here with jose before it is written.
//
//   cd engine/testdata/vectors/gen && npm ci && node gen.mjs
//
// Keys are fresh on every run, so regenerating rewrites every token; the
// fixed clock keeps the claims valid forever for a verifier whose clock
// reads `clock`.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';

const out = fileURLToPath(new URL('../jose.json', import.meta.url));
const joseVersion = JSON.parse(
  readFileSync(fileURLToPath(new URL('./node_modules/jose/package.json', import.meta.url)), 'utf8'),
).version;

// The fixed verification time of the generated set: 2026-01-01T00:00:00Z.
const CLOCK = 1767225600;
const ISSUER = 'https://idp.vectors.example';
const AUDIENCE = 'api://jwtgate-vectors';

const ALGS = [
  { alg: 'RS256', gen: { modulusLength: 2048 } },
  { alg: 'RS384', gen: { modulusLength: 3072 } },
  { alg: 'RS512', gen: { modulusLength: 4096 } },
  { alg: 'PS256', gen: { modulusLength: 2048 } },
  { alg: 'PS384', gen: { modulusLength: 3072 } },
  { alg: 'PS512', gen: { modulusLength: 4096 } },
  { alg: 'ES256' },
  { alg: 'ES384' },
  { alg: 'ES512' },
  { alg: 'EdDSA', gen: { crv: 'Ed25519' } },
  { alg: 'HS256', secret: true },
  { alg: 'HS384', secret: true },
  { alg: 'HS512', secret: true },
];

const enc = (bytes) => jose.base64url.encode(bytes);
const dec = (s) => jose.base64url.decode(s);
const text = new TextEncoder();

async function makeKey(spec) {
  if (spec.secret) {
    const k = await jose.generateSecret(spec.alg, { extractable: true });
    return { sign: k, verify: k, jwk: await jose.exportJWK(k) };
  }
  const { publicKey, privateKey } = await jose.generateKeyPair(spec.alg, { extractable: true, ...spec.gen });
  return { sign: privateKey, verify: publicKey, jwk: await jose.exportJWK(publicKey) };
}

// expected lists what a verifier must read from a token's claims.
function expected(p) {
  const aud = p.aud === undefined ? [] : Array.isArray(p.aud) ? p.aud : [p.aud];
  const scope = p.scope !== undefined ? p.scope : Array.isArray(p.scp) ? p.scp.join(' ') : p.scp;
  return {
    iss: p.iss, sub: p.sub, aud, jti: p.jti, scope,
    exp: Math.floor(p.exp), iat: Math.floor(p.iat), nbf: Math.floor(p.nbf),
  };
}

// Three realistic payloads per algorithm: a plain access token, one with an
// audience list, "scp" array and strings that need JSON escapes, and one with
// fractional NumericDates (RFC 7519 §2 allows them).
function payloads(alg) {
  const base = {
    iss: ISSUER,
    aud: AUDIENCE,
    iat: CLOCK - 60,
    nbf: CLOCK - 60,
    exp: CLOCK + 3600,
  };
  return [
    {
      name: 'access',
      header: { typ: 'at+jwt', kid: true },
      payload: {
        ...base,
        sub: 'user-7c1e2a',
        jti: `${alg}-access-6b0c0a52`,
        scope: 'openid profile read:orders write:orders',
        client_id: 'gateway-client',
      },
    },
    {
      name: 'aud-list-escapes',
      header: { typ: 'JWT', kid: false },
      payload: {
        ...base,
        aud: ['https://other.example', AUDIENCE],
        sub: 'Zoë "the admin" \\ 🚀 </script>',
        jti: `${alg}-escapes-1f9d`,
        scp: ['read', 'write', 'admin:all'],
        groups: ['ops', 'dev'],
        nested: { a: [1, 2.5e3, -0.25, true, null], 'b\u0000c': 'x' },
      },
    },
    {
      name: 'fractional-dates',
      header: { typ: 'JWT', kid: true },
      payload: {
        ...base,
        iat: CLOCK - 60.25,
        nbf: CLOCK - 60.75,
        exp: CLOCK + 3600.5,
        sub: 'service-account@vectors',
        jti: `${alg}-fraction-00a1`,
        scope: 'batch',
      },
    },
  ];
}

// tamperPayload re-encodes the payload with another subject and keeps the
// original signature.
function tamperPayload(token) {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(new TextDecoder().decode(dec(p)));
  claims.sub = 'admin';
  return `${h}.${enc(text.encode(JSON.stringify(claims)))}.${s}`;
}

// flipSignature flips one bit in the middle of the decoded signature and
// re-encodes it, so the token stays strict base64url.
function flipSignature(token) {
  const [h, p, s] = token.split('.');
  const sig = dec(s);
  sig[sig.length >> 1] ^= 0x04;
  return `${h}.${p}.${enc(sig)}`;
}

async function mustVerify(token, key, alg) {
  await jose.compactVerify(token, key, { algorithms: [alg] });
}

async function mustFail(token, key, alg, what) {
  try {
    await jose.compactVerify(token, key, { algorithms: [alg] });
  } catch {
    return;
  }
  throw new Error(`${what}: jose accepted a token it must reject`);
}

async function joseSet() {
  const keys = [];
  const tokens = [];
  for (const spec of ALGS) {
    const { alg } = spec;
    const kid = `vec-${alg.toLowerCase()}-1`;
    const key = await makeKey(spec);
    const attacker = await makeKey(spec);
    keys.push({ alg, jwk: { ...key.jwk, kid, alg, use: 'sig' } });
    for (const { name, header, payload } of payloads(alg)) {
      const hdr = { alg, typ: header.typ, ...(header.kid ? { kid } : {}) };
      const token = await new jose.SignJWT(payload).setProtectedHeader(hdr).sign(key.sign);
      await jose.jwtVerify(token, key.verify, {
        algorithms: [alg], issuer: ISSUER, audience: AUDIENCE, currentDate: new Date(CLOCK * 1000),
      });
      tokens.push({ name: `${alg}/${name}`, alg, token, valid: true, check: 'claims', expect: expected(payload) });
      if (name !== 'access') continue;

      const tampered = tamperPayload(token);
      await mustFail(tampered, key.verify, alg, `${alg} tampered payload`);
      tokens.push({ name: `${alg}/tampered-payload`, alg, token: tampered, valid: false, check: 'claims' });

      const flipped = flipSignature(token);
      await mustFail(flipped, key.verify, alg, `${alg} flipped signature`);
      tokens.push({ name: `${alg}/flipped-signature`, alg, token: flipped, valid: false, check: 'claims' });

      // The same header and claims signed by a key the verifier does not
      // trust, under the trusted key's kid.
      const forged = await new jose.SignJWT(payload).setProtectedHeader(hdr).sign(attacker.sign);
      await mustFail(forged, key.verify, alg, `${alg} other key`);
      tokens.push({ name: `${alg}/signed-by-other-key`, alg, token: forged, valid: false, check: 'claims' });
    }
  }
  return {
    name: 'jose',
    source: `panva/jose ${joseVersion} on Node.js ${process.version} (WebCrypto), generated by gen.mjs`,
    clock: CLOCK,
    issuer: ISSUER,
    audience: AUDIENCE,
    keys,
    tokens,
  };
}

// The RFC worked examples, transcribed from the RFC texts with line breaks
// removed. Each is checked with jose below, which catches a transcription
// error before it reaches the Go test.
const A123_PAYLOAD = 'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ';
const FRODO_PAYLOAD =
  'SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4';
const BILBO_RSA = {
  kty: 'RSA',
  kid: 'bilbo.baggins@hobbiton.example',
  use: 'sig',
  n:
    'n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw',
  e: 'AQAB',
};

const RFC_VECTORS = [
  {
    name: 'rfc7515-A.1-HS256',
    source: 'RFC 7515 Appendix A.1 (JWS using HMAC SHA-256)',
    alg: 'HS256',
    jwk: { kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' },
    token: `eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.${A123_PAYLOAD}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`,
    claims: true,
  },
  {
    name: 'rfc7515-A.2-RS256',
    source: 'RFC 7515 Appendix A.2 (JWS using RSASSA-PKCS1-v1_5 SHA-256)',
    alg: 'RS256',
    jwk: {
      kty: 'RSA',
      n:
        'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
      e: 'AQAB',
    },
    token:
      `eyJhbGciOiJSUzI1NiJ9.${A123_PAYLOAD}.` +
      'cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw',
    claims: true,
  },
  {
    name: 'rfc7515-A.3-ES256',
    source: 'RFC 7515 Appendix A.3 (JWS using ECDSA P-256 SHA-256)',
    alg: 'ES256',
    jwk: {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
    token: `eyJhbGciOiJFUzI1NiJ9.${A123_PAYLOAD}.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q`,
    claims: true,
  },
  {
    name: 'rfc7515-A.4-ES512',
    source: 'RFC 7515 Appendix A.4 (JWS using ECDSA P-521 SHA-512); payload "Payload" is not JSON',
    alg: 'ES512',
    jwk: {
      kty: 'EC',
      crv: 'P-521',
      x: 'AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk',
      y: 'ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2',
    },
    token:
      'eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.' +
      'AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn',
    claims: false,
  },
  {
    name: 'rfc7520-4.1-RS256',
    source: 'RFC 7520 §4.1 (RSA v1.5 signature); payload is prose, not JSON',
    alg: 'RS256',
    jwk: BILBO_RSA,
    token:
      `eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.${FRODO_PAYLOAD}.` +
      'MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg',
    claims: false,
  },
  {
    name: 'rfc7520-4.2-PS384',
    source: 'RFC 7520 §4.2 (RSA-PSS signature); payload is prose, not JSON',
    alg: 'PS384',
    jwk: BILBO_RSA,
    token:
      `eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.${FRODO_PAYLOAD}.` +
      'cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw',
    claims: false,
  },
  {
    name: 'rfc7520-4.3-ES512',
    source: 'RFC 7520 §4.3 (ECDSA signature); payload is prose, not JSON',
    alg: 'ES512',
    jwk: {
      kty: 'EC',
      kid: 'bilbo.baggins@hobbiton.example',
      use: 'sig',
      crv: 'P-521',
      x: 'AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt',
      y: 'AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1',
    },
    token:
      `eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9.${FRODO_PAYLOAD}.` +
      'AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2',
    claims: false,
  },
  {
    name: 'rfc7520-4.4-HS256',
    source: 'RFC 7520 §4.4 (HMAC-SHA2 integrity protection); payload is prose, not JSON',
    alg: 'HS256',
    jwk: {
      kty: 'oct',
      kid: '018c0ae5-4d9b-471b-bfd6-eef314bc7037',
      use: 'sig',
      alg: 'HS256',
      k: 'hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg',
    },
    token:
      `eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.${FRODO_PAYLOAD}.` +
      's0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0',
    claims: false,
  },
  {
    name: 'rfc8037-A.4-EdDSA',
    source: 'RFC 8037 Appendix A.4 (Ed25519 signing); payload is prose, not JSON',
    alg: 'EdDSA',
    jwk: { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
    token:
      'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.' +
      'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
    claims: false,
  },
];

// The RFC 7515 A.1–A.3 claims: iss "joe", exp 1300819380 (2011-03-22), no aud.
const RFC_CLOCK = 1300819000;

async function rfcSets() {
  const sets = [];
  for (const v of RFC_VECTORS) {
    const key = await jose.importJWK({ ...v.jwk, alg: v.alg }, v.alg);
    await mustVerify(v.token, key, v.alg);
    const tampered = tamperRFC(v.token);
    await mustFail(tampered, key, v.alg, `${v.name} tampered`);
    const tokens = [
      { name: `${v.name}`, alg: v.alg, token: v.token, valid: true, check: v.claims ? 'claims' : 'signature' },
      { name: `${v.name}/tampered-payload`, alg: v.alg, token: tampered, valid: false, check: 'signature' },
    ];
    if (v.claims) {
      tokens[0].expect = { iss: 'joe', aud: [], exp: 1300819380 };
    }
    sets.push({
      name: v.name,
      source: v.source,
      clock: v.claims ? RFC_CLOCK : 0,
      issuer: v.claims ? 'joe' : '',
      audience: '',
      keys: [{ alg: v.alg, jwk: v.jwk }],
      tokens,
    });
  }
  return sets;
}

// tamperRFC changes one byte of the decoded payload (JSON or not) and keeps
// the signature.
function tamperRFC(token) {
  const [h, p, s] = token.split('.');
  const payload = dec(p);
  payload[payload.length - 2] ^= 0x01;
  return `${h}.${enc(payload)}.${s}`;
}

const doc = {
  comment:
    'Generated by engine/testdata/vectors/gen/gen.mjs; do not edit. Regenerate: cd engine/testdata/vectors/gen && npm ci && node gen.mjs',
  sets: [await joseSet(), ...(await rfcSets())],
};
writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
const n = doc.sets.reduce((a, s) => a + s.tokens.length, 0);
console.log(`wrote ${out}: ${doc.sets.length} sets, ${n} tokens`);
