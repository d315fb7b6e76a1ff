/**
 * Every benchmark comment body carries a marker `~bm<phase>.<n>~`: the phase it belongs to and its
 * index in that phase's schedule, so a receipt is matched to its intended send time without parsing JSON.
 * The rest of the body is filler of a typical comment's length, identical for product and baselines.
 */
const MARK = Buffer.from('~bm', 'latin1');
const TILDE = 0x7e;
const DOT = 0x2e;
const ZERO = 0x30;

const FILLER =
  'Interesting point about the regional talks; I read the full transcript and the second half matters more than the headline suggests. Curious what others think.';

export function markedBody(phase: number, n: number): string {
  return `~bm${phase}.${n}~ ${FILLER}`;
}

/**
 * Calls `found(phase, n)` for every marker in the frame, in order. A frame may hold several
 * (a `comment:batch`). Runs on bytes: no string decoding, no allocation.
 */
export function scanMarkers(frame: Buffer, found: (phase: number, n: number) => void): void {
  let at = frame.indexOf(MARK);
  while (at >= 0) {
    let i = at + MARK.length;
    let phase = 0;
    let digits = 0;
    for (; i < frame.length; i++) {
      const c = frame[i]! - ZERO;
      if (c < 0 || c > 9) break;
      phase = phase * 10 + c;
      digits++;
    }
    if (digits > 0 && frame[i] === DOT) {
      let n = 0;
      let nDigits = 0;
      for (i += 1; i < frame.length; i++) {
        const c = frame[i]! - ZERO;
        if (c < 0 || c > 9) break;
        n = n * 10 + c;
        nDigits++;
      }
      if (nDigits > 0 && frame[i] === TILDE) found(phase, n);
    }
    at = frame.indexOf(MARK, i);
  }
}
