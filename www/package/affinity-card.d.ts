// <affinity-card>: importing the module defines the element (once, even if imported twice).

/** The card's answer: the Card JSON of the Affinity Lens contract (docs/card.md). */
export interface AffinityCardDetail {
  query: { kind: string; value: string };
  status: 'matched' | 'ambiguous' | 'not_found' | 'ignored' | 'error';
  entity: { kind: 'organization' | 'person'; id: number; name: string; domains: string[]; emails: string[]; affinity_url: string | null } | null;
  error: { kind: string; message: string; retry_at?: string | null } | null;
  [key: string]: unknown;
}

/**
 * The element. Attributes: `domain` | `email` | `linkedin` | `organization-id` | `person-id`
 * (one of them), `endpoint` (the gateway's URL; default: this origin's `/affinity`),
 * `token` (a client token of the gateway's), `credentials` (`include` for a gateway on
 * another origin behind the firm's sign-in proxy).
 */
export declare class AffinityCardElement extends HTMLElement {
  static observedAttributes: string[];
}

declare global {
  interface HTMLElementTagNameMap {
    'affinity-card': AffinityCardElement;
  }
  interface HTMLElementEventMap {
    'affinity-card-load': CustomEvent<AffinityCardDetail>;
    'affinity-card-error': CustomEvent<AffinityCardDetail | { error: { kind: string; message: string } }>;
  }
}
