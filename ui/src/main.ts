/** The dashboard's entry point: renders the app into #app (index.html). */
import { render } from 'preact';

import { html } from './html.js';
import { App } from './views/app.js';

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
