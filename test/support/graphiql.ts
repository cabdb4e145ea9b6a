import type { Page } from 'playwright-core';

/**
 * Driving the explorer (GraphiQL) in a page: its editors (Monaco) and its result pane. Shared by
 * the explorer's test and the first run's (test/first-run.test.ts).
 */

/** Bounds every wait on the page, so a page that never gets there fails instead of hanging. */
export const WAIT_MS = 30000;

/** The text a Monaco editor shows (the lines it has drawn), with its non-breaking spaces as spaces. */
export async function editorText(page: Page, selector: string): Promise<string> {
  const text = await page.locator(`${selector} .view-lines`).first().innerText();
  return text.replace(/\u00a0/g, ' ');
}

/** Replaces an editor's content as a paste would (typing would let the editor close brackets itself). */
export async function replaceEditorText(page: Page, selector: string, text: string): Promise<void> {
  await page.locator(`${selector} .view-lines`).first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  try {
    await page.waitForFunction(
      ([sel, expected]) => (globalThis as any).document.querySelector(`${sel} .view-lines`)?.innerText.replace(/\s+/g, '') === expected,
      [selector, text.replace(/\s+/g, '')] as const,
      { timeout: WAIT_MS },
    );
  } catch (err) {
    throw new Error(`the editor ${selector} holds ${await editorText(page, selector)}, not ${text}: ${(err as Error).message}`);
  }
}

/**
 * Waits until the result pane shows `expected` (compared without whitespace: the pane wraps long
 * lines); on a timeout, fails with what it showed.
 */
export async function resultIs(page: Page, expected: unknown): Promise<void> {
  const want = JSON.stringify(expected);
  try {
    await page.waitForFunction(
      (w) => (globalThis as any).document.querySelector('.result-window .view-lines')?.innerText.replace(/\s+/g, '') === w,
      want,
      { timeout: WAIT_MS },
    );
  } catch (err) {
    throw new Error(`the result pane shows ${await editorText(page, '.result-window')}, not ${want}: ${(err as Error).message}`);
  }
}

export const QUERY_EDITOR = '.graphiql-query-editor';
export const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
