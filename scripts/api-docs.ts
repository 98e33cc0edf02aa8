#!/usr/bin/env node
// `npm run docs`: writes the API documents the services serve (GET /openapi.json, /asyncapi.json)
// to docs/api/, generated from the same route specs and schemas. A test regenerates them in
// memory and fails when the committed files are stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '@warren/shared/http/openapi';
import { mainBackendApi } from '../services/main-backend/src/http/api.js';
import { asyncApiDocument } from '../services/notification/src/asyncapi.js';
import { notificationApi } from '../services/notification/src/http/api.js';

export const API_DOCS_DIR = fileURLToPath(new URL('../docs/api/', import.meta.url));

/** Each document's file name and its text, as written. */
export function apiDocuments(): Record<string, string> {
  const text = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
  return {
    'openapi-main-backend.json': text(openApiDocument(mainBackendApi)),
    'openapi-notification.json': text(openApiDocument(notificationApi)),
    'asyncapi.json': text(asyncApiDocument()),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  mkdirSync(API_DOCS_DIR, { recursive: true });
  for (const [name, text] of Object.entries(apiDocuments())) {
    writeFileSync(join(API_DOCS_DIR, name), text);
    console.log(`wrote docs/api/${name}`);
  }
}
