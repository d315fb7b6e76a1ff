import { ModerationSettingsSchema, type ModerationSettingsAnswer } from '../../shared/moderation-settings.ts';
import { h } from '../view/dom.ts';
import type { AdminApi } from './admin-api.ts';
import type { AdminStrings, AdminTextKey } from './admin-strings.ts';

/** What the panel needs of the page around it. */
export interface SettingsPanelHost {
  /** Runs a moderator action; its failure is shown by the page, never thrown. */
  act<T>(run: (api: AdminApi) => Promise<T>, done: (result: T) => void): Promise<void>;
  announce(text: string): void;
}

type ListField = 'bannedWords' | 'suspectWords' | 'blockedDomains';
type NumberField = 'maxLinks' | 'repeatWindowMinutes' | 'repeatArticles' | 'holdFirstComments';

/** Each field with the keys of its label and its hint. */
const LISTS: ReadonlyArray<readonly [ListField, AdminTextKey, AdminTextKey]> = [
  ['bannedWords', 'admin.bannedWords', 'admin.bannedWordsHint'],
  ['suspectWords', 'admin.suspectWords', 'admin.suspectWordsHint'],
  ['blockedDomains', 'admin.blockedDomains', 'admin.blockedDomainsHint'],
];

const NUMBERS: ReadonlyArray<readonly [NumberField, AdminTextKey, AdminTextKey]> = [
  ['maxLinks', 'admin.maxLinks', 'admin.maxLinksHint'],
  ['repeatWindowMinutes', 'admin.repeatWindow', 'admin.repeatWindowHint'],
  ['repeatArticles', 'admin.repeatArticles', 'admin.repeatArticlesHint'],
  ['holdFirstComments', 'admin.holdFirst', 'admin.holdFirstHint'],
];

/**
 * The moderation pipeline's settings on /admin (`GET`/`PUT /api/admin/settings/moderation`): the word
 * and domain lists one entry per line, the numbers and the shouting hold. Saving replaces them all; the
 * server checks them (its message names the field) and applies them on every instance at once.
 */
export class SettingsPanel {
  readonly element: HTMLElement;
  readonly #host: SettingsPanelHost;
  readonly #strings: AdminStrings;
  readonly #lists = new Map<ListField, HTMLTextAreaElement>();
  readonly #numbers = new Map<NumberField, HTMLInputElement>();
  readonly #shouting = h('input', { attrs: { id: 'settings-holdShouting', type: 'checkbox' } });
  readonly #status = h('p', { class: 'muted', attrs: { role: 'status' } });
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert' } });
  /** The moderator changed the form since it was last shown or saved: a reload (reconnect) leaves it alone. */
  #dirty = false;

  constructor(host: SettingsPanelHost, strings: AdminStrings) {
    this.#host = host;
    this.#strings = strings;
    const t = strings;
    const form = h('form', {
      class: 'settings-form',
      attrs: { 'aria-label': t.text('admin.rules'), novalidate: '' },
    });
    for (const [field, label, hint] of LISTS) {
      const id = `settings-${field}`;
      const area = h('textarea', { attrs: { id, rows: '4', spellcheck: 'false', 'aria-describedby': `${id}-hint` } });
      this.#lists.set(field, area);
      form.append(
        h('label', { text: t.text(label), attrs: { for: id } }),
        h('p', { class: 'hint', text: `${t.text(hint)} ${t.text('admin.onePerLine')}`, attrs: { id: `${id}-hint` } }),
        area,
      );
    }
    for (const [field, label, hint] of NUMBERS) {
      const id = `settings-${field}`;
      const input = h('input', {
        attrs: { id, type: 'number', min: '0', step: '1', inputmode: 'numeric', 'aria-describedby': `${id}-hint` },
      });
      this.#numbers.set(field, input);
      form.append(
        h('label', { text: t.text(label), attrs: { for: id } }),
        h('p', { class: 'hint', text: t.text(hint), attrs: { id: `${id}-hint` } }),
        input,
      );
    }
    form.append(
      h('label', { class: 'check' }, [this.#shouting, ` ${t.text('admin.holdShouting')}`]),
      this.#error,
      h('div', { class: 'actions' }, [
        h('button', {
          class: 'primary',
          text: t.text('admin.saveRules'),
          attrs: { type: 'submit', 'data-action': 'save-settings' },
        }),
      ]),
      this.#status,
    );
    form.addEventListener('input', () => {
      this.#dirty = true;
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#save();
    });
    this.element = h('section', { attrs: { 'aria-labelledby': 'settings-title' } }, [
      h('h2', { text: t.text('admin.rules'), attrs: { id: 'settings-title' } }),
      h('p', { class: 'hint', text: t.text('admin.rulesHint') }),
      form,
    ]);
  }

  /** The settings in force, as the server answered them (after sign-in and every reconnect; not over unsaved edits). */
  show(answer: ModerationSettingsAnswer): void {
    if (this.#dirty) return;
    const { settings } = answer;
    for (const [field, area] of this.#lists) area.value = settings[field].join('\n');
    for (const [field, input] of this.#numbers) input.value = String(settings[field]);
    this.#shouting.checked = settings.holdShouting;
    this.#status.textContent =
      answer.version === 0
        ? this.#strings.text('admin.defaults')
        : this.#strings.text('admin.version', { version: String(answer.version) });
  }

  #save(): void {
    this.#error.textContent = '';
    const draft: Record<string, unknown> = { holdShouting: this.#shouting.checked };
    for (const [field, area] of this.#lists)
      draft[field] = area.value
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '');
    for (const [field, input] of this.#numbers)
      draft[field] = input.value.trim() === '' ? undefined : Number(input.value);
    // Checked here first for a message next to the form; the server checks again and has the last word.
    const parsed = ModerationSettingsSchema.safeParse(draft);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      // zod's message, in English: the field's name says which one it is in any language.
      this.#error.textContent = this.#strings.text('admin.invalid', {
        field: issue?.path.join('.') ?? 'settings',
        message: issue?.message ?? 'not valid',
      });
      return;
    }
    void this.#host.act(
      (api) => api.saveModerationSettings(parsed.data),
      (answer) => {
        this.#dirty = false;
        this.show(answer);
        this.#host.announce(this.#strings.text('admin.rulesSaved', { version: String(answer.version) }));
      },
    );
  }
}
