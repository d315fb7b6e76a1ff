import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostStoredSchema } from '../../shared/schemas.ts';
import { REPO_ROOT } from '../helpers/logged-process.ts';
import { postJson, startTestApp, uniqueArticle, type TestApp } from '../helpers/test-app.ts';

const run = promisify(execFile);

/** The host example of docs/sign-in.md (which the README links to), exactly as printed there. */
function readmeHostExample(): string {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'sign-in.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Your backend signs a token'));
  const block = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('docs/sign-in.md has no js block under "Your backend signs a token"');
  return block;
}

describe('docs/sign-in.md (linked from the README): the host example works as pasted', () => {
  const secret = `readme-${nanoid(40)}`;
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ env: { SSO_SECRETS: secret } });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('signs a token in a Node process of its own that the server takes as a verified member', async () => {
    // Beside the repository's node_modules, so `import … from 'jose'` resolves as on a host's backend.
    const file = join(REPO_ROOT, 'tests', `.readme-host-example-${nanoid(8)}.mjs`);
    writeFileSync(
      file,
      ["const user = { id: 42, displayName: 'Pasted Example' };", readmeHostExample(), 'console.log(token);'].join(
        '\n',
      ),
    );
    let token: string;
    try {
      const { stdout } = await run(process.execPath, [file], { env: { ...process.env, LC_SSO_SECRET: secret } });
      token = stdout.trim();
    } finally {
      rmSync(file, { force: true });
    }
    const res = await postJson(
      `${app.url}/api/articles/${uniqueArticle('readme')}/comments`,
      { body: 'Signed in by the README example' },
      { authorization: `Bearer ${token}` },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(PostStoredSchema.parse(res.body).comment.author).toEqual({
      name: 'Pasted Example',
      verified: true,
      badges: ['subscriber'],
    });
  });
});
