/** Where a resumable user listing stands, and one page of it. */

export interface ListPosition {
  /** Users passed so far (invalid ids included). */
  skip: number;
  /**
   * The source's cursor of the page holding the next user; undefined for the first page and for
   * sources without cursors.
   */
  token?: string;
  /**
   * Users of that page already passed: a page longer than the fan-out window is added in parts, and
   * a tick may stop between two of them. Absent (0) at a page boundary.
   */
  within?: number;
}

export interface UserPage {
  /** May be empty: a cursor listing can answer a page with no users but a next cursor. */
  users: string[];
  /** Where the listing stands after this page. */
  next: ListPosition;
}
