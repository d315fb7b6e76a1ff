import { ModerationSettingsSchema, type ModerationSettingsAnswer } from '../../shared/moderation-settings.ts';
import { h } from '../view/dom.ts';
import type { AdminApi } from './admin-api.ts';

/** What the panel needs of the page around it. */
export interface SettingsPanelHost {
  /** Runs a moderator action; its failure is shown by the page, never thrown. */
  act<T>(run: (api: AdminApi) => Promise<T>, done: (result: T) => void): Promise<void>;
  announce(text: string): void;
}

type ListField = 'bannedWords' | 'suspectWords' | 'blockedDomains';
type NumberField = 'maxLinks' | 'repeatWindowMinutes' | 'repeatArticles' | 'holdFirstComments';

const LISTS: ReadonlyArray<readonly [ListField, string, string]> = [
  ['bannedWords', 'Banned words and phrases', 'Refused, with the word named so its author can rephrase.'],
  ['suspectWords', 'Suspect words and phrases', 'Held for review.'],
  ['blockedDomains', 'Blocked domains', 'A link to one of these (or a subdomain) is refused.'],
];

const NUMBERS: ReadonlyArray<readonly [NumberField, string, string]> = [
  ['maxLinks', 'Most links', 'More links than this holds a comment (0: any link holds).'],
  [
    'repeatWindowMinutes',
    'Repeat window (minutes)',
    'The same text again within it: refused from the same author, held across articles (0: off).',
  ],
  [
    'repeatArticles',
    'Articles before a repeat is held',
    'How many articles the same text may reach within the window.',
  ],
  [
    'holdFirstComments',
    'Hold first comments',
    'Hold an author’s comments until this many of theirs are visible (0: off).',
  ],
];

/**
 * The moderation pipeline's settings on /admin (`GET`/`PUT /api/admin/settings/moderation`): the word
 * and domain lists one entry per line, the numbers and the shouting hold. Saving replaces them all; the
 * server checks them (its message names the field) and applies them on every instance at once.
 */
export class SettingsPanel {
  readonly element: HTMLElement;
  readonly #host: SettingsPanelHost;
  readonly #lists = new Map<ListField, HTMLTextAreaElement>();
  readonly #numbers = new Map<NumberField, HTMLInputElement>();
  readonly #shouting = h('input', { attrs: { id: 'settings-holdShouting', type: 'checkbox' } });
  readonly #status = h('p', { class: 'muted', attrs: { role: 'status' } });
  readonly #error = h('p', { class: 'error', attrs: { role: 'alert' } });
  /** The moderator changed the form since it was last shown or saved: a reload (reconnect) leaves it alone. */
  #dirty = false;

  constructor(host: SettingsPanelHost) {
    this.#host = host;
    const form = h('form', { class: 'settings-form', attrs: { 'aria-label': 'Moderation rules', novalidate: '' } });
    for (const [field, label, hint] of LISTS) {
      const id = `settings-${field}`;
      const area = h('textarea', { attrs: { id, rows: '4', spellcheck: 'false', 'aria-describedby': `${id}-hint` } });
      this.#lists.set(field, area);
      form.append(
        h('label', { text: label, attrs: { for: id } }),
        h('p', { class: 'hint', text: `${hint} One per line.`, attrs: { id: `${id}-hint` } }),
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
        h('label', { text: label, attrs: { for: id } }),
        h('p', { class: 'hint', text: hint, attrs: { id: `${id}-hint` } }),
        input,
      );
    }
    form.append(
      h('label', { class: 'check' }, [this.#shouting, ' Hold shouting (mostly capitals, or mostly not letters)']),
      this.#error,
      h('div', { class: 'actions' }, [
        h('button', {
          class: 'primary',
          text: 'Save rules',
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
      h('h2', { text: 'Moderation rules', attrs: { id: 'settings-title' } }),
      h('p', {
        class: 'hint',
        text: 'Every new comment and edit passes these rules before it is stored. Matching sees through case, accents, spacing and look-alike spellings.',
      }),
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
      answer.version === 0 ? 'The defaults are in force.' : `Version ${answer.version} is in force.`;
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
      this.#error.textContent = `${issue?.path.join('.') ?? 'settings'}: ${issue?.message ?? 'not valid'}`;
      return;
    }
    void this.#host.act(
      (api) => api.saveModerationSettings(parsed.data),
      (answer) => {
        this.#dirty = false;
        this.show(answer);
        this.#host.announce(`Moderation rules saved (version ${answer.version}); every instance applies them now.`);
      },
    );
  }
}
