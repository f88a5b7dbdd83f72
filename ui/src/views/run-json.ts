/**
 * One run's JSON, as `GET /v1/actions/{uid}` answers it: shown as text (never parsed as markup) and
 * offered as a download. A plain link to the API would open without the session's token.
 */
import { useEffect, useState } from 'preact/hooks';

import { describeError } from '../api.js';
import { html } from '../html.js';
import type { Session } from '../session.js';

export function RunJson({ session, uid }: { session: Session; uid: string }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const [href, setHref] = useState<string | undefined>(undefined);
  useEffect(() => {
    let url: string | undefined;
    session.api
      .get<unknown>(`/v1/actions/${encodeURIComponent(uid)}`)
      .then((run) => {
        const json = JSON.stringify(run, null, 2);
        setText(json);
        url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
        setHref(url);
      })
      .catch((err: unknown) => setError(describeError(err)));
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [uid]);
  return html`<section aria-labelledby="json-title">
    <h2 id="json-title">Run ${uid}</h2>
    <p class="links">
      <code>GET /v1/actions/${uid}</code>
      ${href ? html` · <a href=${href} download=${`run-${uid}.json`}>Download JSON</a>` : null} ·
      <a href="#/history">Back to the history</a>
    </p>
    ${error ? html`<p class="error" role="alert">${error}</p>` : html`<pre class="json" data-testid="run-json">${text}</pre>`}
  </section>`;
}
