import { describe, expect, it } from 'vitest';
import { failureWords } from '../src/lib/failure-words.js';

describe('failureWords', () => {
  it('keeps one plain sentence and puts the rest behind details', () => {
    expect(failureWords('The model API refused the request (400): scripted refusal')).toEqual({
      sentence: "Claude's service refused the request.",
      details: 'The model API refused the request (400): scripted refusal',
    });
    const limit = 'Stopped after 40 turns (limit: agent.maxTurns = 40).';
    expect(failureWords(limit)).toEqual({ sentence: 'Stopped after 40 turns.', details: limit });
    const key =
      'The Anthropic API rejected the API key (401). Check ANTHROPIC_API_KEY or anthropic.apiKey in config.json.';
    expect(failureWords(key).sentence).toBe("Claude's service rejected the API key.");
    expect(failureWords(key).nextStep).toBe('Check ANTHROPIC_API_KEY or anthropic.apiKey in config.json.');
    const refused =
      'The model API refused the request (400): prompt is too long. Retry; if it is refused again, start a new thread.';
    // Only the host's last sentence: the API's own words before it never count as the next step.
    expect(
      failureWords(
        'The model API refused the request (400): Use a smaller image. Retry; if it is refused again, start a new thread.',
      ).nextStep,
    ).toBe('Retry; if it is refused again, start a new thread.');
    expect(failureWords(refused)).toEqual({
      sentence: "Claude's service refused the request.",
      nextStep: 'Retry; if it is refused again, start a new thread.',
      details: refused,
    });
    expect(failureWords('Could not reach the model API (connect ECONNREFUSED 127.0.0.1:9).').sentence).toBe(
      "Could not reach Claude's service.",
    );
  });

  it("names the service as people know it (Claude's), with the host's own sentence behind details", () => {
    expect(failureWords('The model API sent nothing for 90 seconds.')).toEqual({
      sentence: "Claude's service sent nothing for 90 seconds.",
      details: 'The model API sent nothing for 90 seconds.',
    });
    expect(failureWords('The connection to the model API failed (socket hang up).').sentence).toBe(
      "The connection to Claude's service failed.",
    );
    expect(failureWords('The Anthropic API is overloaded (529): busy').sentence).toBe(
      "Claude's service is overloaded.",
    );
    for (const reason of [
      'The model API refused the request (400): x',
      'The Anthropic API rejected the API key (401). Check ANTHROPIC_API_KEY.',
      'The model API reported api_error (500): x',
    ])
      expect(failureWords(reason).sentence).not.toMatch(/(model|Anthropic) API/);
  });

  it('a reason that is already one sentence has no details', () => {
    expect(failureWords('The model declined to continue this task.')).toEqual({
      sentence: 'The model declined to continue this task.',
    });
    expect(failureWords(undefined)).toEqual({ sentence: 'The task stopped with an error.' });
  });

  it('cuts a very long sentence', () => {
    const w = failureWords(`Stopped: ${'x'.repeat(400)}`);
    expect(w.sentence.length).toBe(160);
    expect(w.sentence.endsWith('…')).toBe(true);
    expect(w.details).toBeDefined();
  });
});
