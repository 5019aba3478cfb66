// The conversation as the Messages API sees it. Kept as plain JSON in the thread's private agent
// record (`doc.agent`), so a checkpoint is just this data written durably.
export interface CacheControl {
  type: 'ephemeral';
}
export interface TextBlock {
  type: 'text';
  text: string;
  /** Sources the API attached to this text (web search / fetch results). */
  citations?: unknown[];
  cache_control?: CacheControl;
}
export interface ImageBlock {
  type: 'image';
  source: { type: 'base64'; media_type: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'; data: string };
  cache_control?: CacheControl;
}
export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
  cache_control?: CacheControl;
}
export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: Array<TextBlock | ImageBlock>;
  is_error?: boolean;
  cache_control?: CacheControl;
}
/**
 * A block of the API's server tools (web search / web fetch): `server_tool_use` and its result
 * (`web_search_tool_result`, `web_fetch_tool_result`). Kept exactly as the API sent it, so the
 * history the model sees on the next call (and after a restart) is the one it produced.
 */
export interface ServerBlock {
  type: 'server_tool_use' | 'web_search_tool_result' | 'web_fetch_tool_result';
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  cache_control?: CacheControl;
  [key: string]: unknown;
}
/**
 * The model's extended thinking. The API requires these blocks back exactly as it sent them (text and
 * signature byte for byte, redacted data untouched) on later turns, so they are stored whole.
 */
export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}
export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}
export type WireBlock =
  | TextBlock
  | ImageBlock
  | ToolUseBlock
  | ToolResultBlock
  | ServerBlock
  | ThinkingBlock
  | RedactedThinkingBlock;
export interface WireMessage {
  role: 'user' | 'assistant';
  content: WireBlock[];
}

export interface WireTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  cache_control?: CacheControl;
}

/** One Messages API request, as the loop builds it. */
export interface ModelRequest {
  model: string;
  max_tokens: number;
  system: TextBlock[];
  tools: Array<WireTool | ServerTool>;
  messages: WireMessage[];
  /** Extended thinking (model.ts: anthropic.thinking). */
  thinking?: { type: 'enabled'; budget_tokens: number };
  /** The API's context management (clear old tool uses near the window). */
  context_management?: { edits: Array<Record<string, unknown>> };
  /** Beta features: sent as the anthropic-beta header by the client, never in the body. */
  betas?: string[];
}

/** A server tool the API runs itself (see web-tools.ts). */
export interface ServerTool {
  type: string;
  name: string;
  max_uses?: number;
  allowed_domains?: string[];
  blocked_domains?: string[];
  cache_control?: CacheControl;
}

/** The raw SSE events of a streamed reply (the subset the loop reads). */
export type StreamEvent =
  | { type: 'message_start'; message: { usage?: Partial<ApiUsage>; model?: string } }
  | {
      type: 'content_block_start';
      index: number;
      content_block: { type: string; text?: string; id?: string; name?: string; [key: string]: unknown };
    }
  | {
      type: 'content_block_delta';
      index: number;
      delta: {
        type: string;
        text?: string;
        partial_json?: string;
        citation?: unknown;
        thinking?: string;
        signature?: string;
      };
    }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason?: string | null }; usage?: Partial<ApiUsage> | null }
  | { type: 'message_stop' };

export interface ApiUsage {
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
  server_tool_use?: { web_search_requests?: number | null; web_fetch_requests?: number | null } | null;
}

/** A model behind the Messages API. `stream` resolves when the reply ended, rejects on any failure. */
export interface ModelClient {
  stream(request: ModelRequest, opts: { signal: AbortSignal; onEvent: (event: StreamEvent) => void }): Promise<void>;
}
