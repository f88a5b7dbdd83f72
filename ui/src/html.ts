/**
 * Preact's `h` bound to htm's tagged templates: components are written as HTML-like templates with
 * no compile step of their own. Every `${value}` in a template becomes a text node or an attribute
 * value set through the DOM, never parsed as HTML, so a value from the API cannot inject markup.
 */
import htm from 'htm';
import { h, type VNode } from 'preact';

export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
