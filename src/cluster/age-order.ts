/**
 * Age order for read-your-writes (overlay.ts): pending writes leave when they are replaced,
 * confirmed, expire or are evicted, in any order, and the oldest is asked for often.
 */

/** One place in an age order; `prev` is older. */
export type Link<T> = { readonly entry: T; prev: Link<T> | undefined; next: Link<T> | undefined };

/**
 * Entries oldest first, as a doubly linked list: an entry that leaves is taken out at once,
 * wherever it is, through the link `push` gave for it. A queue that kept a replaced entry until
 * its turn came held every version of an object admitted again and again: the caller's queue,
 * read only when the caller reached its limit, grew with each write, and the garbage collector
 * copied all of it out of the young generation.
 */
export class AgeOrder<T> {
  #oldest: Link<T> | undefined;
  #newest: Link<T> | undefined;
  size = 0;
  get oldest(): T | undefined {
    return this.#oldest?.entry;
  }
  push(entry: T): Link<T> {
    const link: Link<T> = { entry, prev: this.#newest, next: undefined };
    if (this.#newest) this.#newest.next = link;
    else this.#oldest = link;
    this.#newest = link;
    this.size++;
    return link;
  }
  /** `link` becomes the newest, in place: renewing an entry allocates nothing for the collector to promote. */
  renew(link: Link<T>): void {
    if (link === this.#newest) return;
    this.remove(link);
    link.prev = this.#newest;
    this.#newest!.next = link; // not empty: `link` was in it and was not the newest
    this.#newest = link;
    this.size++;
  }
  remove(link: Link<T>): void {
    if (link.prev) link.prev.next = link.next;
    else this.#oldest = link.next;
    if (link.next) link.next.prev = link.prev;
    else this.#newest = link.prev;
    // a link that left may have been promoted to the old generation; left pointing at its
    // neighbours it would keep each young link after it alive through the next scavenges
    link.prev = undefined;
    link.next = undefined;
    this.size--;
  }
}
