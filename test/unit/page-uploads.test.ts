/** What the page says of a file it cannot send (static/text/file-words.js): empty, or larger than the server takes. */
import { describe, expect, it } from 'vitest';

const uploads: {
  humanSize(bytes: number): string;
  fileProblem(name: string, size: number, maxBytes: number | null | undefined): string | null;
  refusalInWords(
    refusal: { code?: unknown; message?: unknown },
    name: string,
    size: number,
    maxBytes: number | null | undefined,
  ): string | null;
} = await import(new URL('../../static/text/file-words.js', import.meta.url).href);

const MIB = 1024 * 1024;

describe('files the page does not send', () => {
  it('gives sizes as people say them', () => {
    expect(uploads.humanSize(1)).toBe('1 byte');
    expect(uploads.humanSize(1023)).toBe('1023 bytes');
    expect(uploads.humanSize(2560)).toBe('2.5 KiB');
    expect(uploads.humanSize(11 * MIB)).toBe('11 MiB');
    expect(uploads.humanSize(10.5 * MIB)).toBe('10.5 MiB');
    expect(uploads.humanSize(3 * 1024 * MIB)).toBe('3 GiB');
  });

  it('says an empty file or one over the limit is not sent, before asking the server', () => {
    expect(uploads.fileProblem('notes.txt', 0, 10 * MIB)).toBe('notes.txt is empty: nothing to send');
    expect(uploads.fileProblem('big.zip', 11 * MIB, 10 * MIB)).toBe(
      'big.zip is 11 MiB; files can be at most 10 MiB',
    );
    // Sizes that read alike are given in bytes.
    expect(uploads.fileProblem('edge.zip', 10 * MIB + 1, 10 * MIB)).toBe(
      'edge.zip is 10485761 bytes; files can be at most 10485760 bytes',
    );
    expect(uploads.fileProblem('ok.zip', 10 * MIB, 10 * MIB)).toBeNull();
    // Not told the limit: only the server can say.
    expect(uploads.fileProblem('big.zip', 11 * MIB, null)).toBeNull();
  });

  it("says the server's refusal of a too large or empty file in the same words", () => {
    const tooLarge = {
      code: 'attachment-too-large',
      message:
        'The file is larger than this server accepts (CHAT_ATTACHMENT_MAX_BYTES): send a smaller one (11534336 bytes; at most 10485760)',
    };
    expect(uploads.refusalInWords(tooLarge, 'big.zip', 11 * MIB, null)).toBe(
      'big.zip is 11 MiB; files can be at most 10 MiB',
    );
    expect(uploads.refusalInWords({ code: 'attachment-too-large' }, 'big.zip', 11 * MIB, null)).toBe(
      'big.zip is 11 MiB: larger than this server accepts',
    );
    expect(
      uploads.refusalInWords({ code: 'invalid-attachment', message: 'size must be…' }, 'e.txt', 0, null),
    ).toBe('e.txt is empty: nothing to send');
    expect(
      uploads.refusalInWords({ code: 'not-a-member', message: 'Join the group' }, 'a.png', 5, null),
    ).toBe(null);
  });
});
