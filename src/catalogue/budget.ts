/**
 * The work one review may cost. Istio's CRDs bound what the mesh accepts (ServiceEntry hosts,
 * addresses and ports: at most 256 items; endpoints: at most 4096; names and protocols: at most 256
 * characters; hosts are DNS names of at most 255; direct response bodies: 1 MiB), so an object far
 * beyond that is refused before any rule runs, and what the rules report is folded and capped so
 * the answer stays readable.
 * Rule files and the review layer both read these; they are the one owner of the numbers.
 */

/**
 * Items in any one list of a judged object's spec: the longest list any Istio CRD accepts (4096
 * ServiceEntry endpoints; hosts, addresses and ports stop at 256). Kubernetes itself holds at most
 * 1000 endpoints and 100 ports in an EndpointSlice.
 */
export const LIST_ITEMS_MAX = 4_096;

/**
 * Characters in any one string of a judged object's spec, but for direct response bodies (below).
 * Envoy refuses request headers beyond 60 KiB by default (max_request_headers_kb), so no host,
 * match or header value longer than this can ever be routed or matched; Istio's CRDs cap names at
 * 256 characters.
 */
export const STRING_CHARS_MAX = 64 * 1024;

/**
 * Bytes of a VirtualService `directResponse` body istiod accepts: validateHTTPDirectResponse
 * refuses a body over 1 MiB and warns past 100 KiB. Envoy sends the body, so no header limit applies.
 */
export const DIRECT_RESPONSE_BODY_BYTES_MAX = 1024 * 1024;

/**
 * Characters of a `directResponse` body (`body.string` or `body.bytes`) reviewed: the longest
 * body text the mesh can accept. `bytes` is canonical base64 (the CRD's `format: byte` refuses
 * line breaks and missing padding), 4 characters per 3 bytes; `string` is counted in UTF-8 bytes,
 * never fewer than its characters. istiod refuses anything longer as well.
 */
export const DIRECT_RESPONSE_BODY_CHARS_MAX = 4 * Math.ceil(DIRECT_RESPONSE_BODY_BYTES_MAX / 3);

/** Values (objects, lists, scalars) in a judged object's spec: what the rules walk, in bulk. */
export const SPEC_VALUES_MAX = 250_000;

/** Distinct findings listed in a denial or an audit annotation; the rest are counted. */
export const FINDINGS_SHOWN_MAX = 50;

/**
 * Characters of one finding's message: a message quotes the offending value, which is cut here
 * (the longest legitimate value, a 255-character host, fits with room to spare).
 */
export const FINDING_MESSAGE_MAX = 512;

/**
 * Characters in a denial message or an audit annotation. kubectl prints the message in full;
 * 50 findings of a few hundred characters is a screenful or two, not the megabytes a pathological
 * object could produce.
 */
export const DENIAL_CHARS_MAX = 16 * 1024;
