/**
 * English strings of the widget's parts (client/parts.ts), kept with them rather than in widget.js;
 * translated in the same tables as client/i18n/en.ts.
 */

/** widget-own.js: editing and deleting one's own comments, and "N new replies to you". */
export const EN_OWN = {
  save: 'Save',
  saving: 'Saving…',
  yourComment: 'Your comment',
  noKey: 'This browser no longer holds the key to edit this comment.',
  notSaved: 'Not saved: {error}',
  wasEdited: 'Your comment was edited.',
  confirmDelete: 'Delete your comment? This cannot be undone.',
  yesDelete: 'Yes, delete',
  deleting: 'Deleting…',
  notDeleted: 'Not deleted: {error}',
  wasDeleted: 'Your comment was deleted.',
  repliesToYou: { one: '{n} new reply to you', other: '{n} new replies to you' },
};

/** widget-report.js: the Report form. */
export const EN_REPORT = {
  reportWhy: 'Why are you reporting this comment?',
  'reason.spam': 'Spam or advertising',
  'reason.abuse': 'Abuse or harassment',
  'reason.off_topic': 'Off topic',
  'reason.other': 'Something else',
  reportNote: 'Note for the moderators (optional)',
  sendReport: 'Send report',
  chooseReason: 'Choose a reason.',
  close: 'Close',
  reportThanks: 'Thank you. A moderator will review this comment.',
  reportSent: 'Report sent. Thank you.',
  notSent: 'Not sent: {error}',
  somethingWrong: 'Something went wrong. Try again.',
};

/** widget-typing.js: typing indicators. */
export const EN_TYPING = {
  typingNew: { one: 'Someone is writing a comment…', other: '{n} people are writing comments…' },
  typingReply: { one: 'Someone is replying…', other: '{n} people are replying…' },
};

/** widget-permalink.js: the Link action. */
export const EN_PERMALINK = {
  linkCopied: 'Link copied',
  linkInAddress: 'Link in the address bar',
};

/** widget-member.js: sign-in from the host site. */
export const EN_MEMBER = {
  commentingAs: 'Commenting as {name}',
  signIn: 'Sign in to comment',
};

/** widget-notify.js: "Email me when someone replies" (reply e-mails). */
export const EN_NOTIFY = {
  notifyMe: 'Email me when someone replies',
  notifyEmail: 'Your e-mail address',
  notifyHint: 'A confirmation e-mail comes first; every e-mail has an unsubscribe link.',
  notifyMemberHint: 'E-mails go to {email}. Every e-mail has an unsubscribe link.',
  notifyInvalid: 'Enter a valid e-mail address.',
  notifyConfirm: 'Check your inbox: confirm to get reply e-mails.',
  notifySubscribed: 'You will get an e-mail when someone replies.',
};
