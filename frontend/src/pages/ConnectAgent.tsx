import { useMutation, useQueryClient } from "@tanstack/react-query";
import { post } from "../api/client";
import type { ApiKeyCreated, ApiKeyIn } from "../api/types";
import { ErrorMessage } from "../components/ui";

/** What an MCP client needs: the endpoint, a key it sends as a bearer token, its set-up snippet. */
export function ConnectAgent() {
  const queryClient = useQueryClient();
  const url = `${window.location.origin}/api/mcp`;
  const create = useMutation({
    mutationFn: () => post<ApiKeyCreated>("/api/auth/api-keys", { name: `AI agent ${new Date().toISOString().slice(0, 10)}`, expires_in_days: 90 } satisfies ApiKeyIn),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["api-keys"] }),
  });
  const key = create.data?.key ?? "pyat_…";
  const snippets = [
    { client: "Claude Code", text: `claude mcp add --transport http pyairtable ${url} \\\n  --header "Authorization: Bearer ${key}"` },
    { client: "Cursor, VS Code and other JSON-configured clients", text: JSON.stringify({ mcpServers: { pyairtable: { type: "http", url, headers: { Authorization: `Bearer ${key}` } } } }, null, 2) },
    {
      client: "Python (the official mcp SDK)",
      text: `import httpx2\nfrom mcp import Client\nfrom mcp.client.streamable_http import streamable_http_client\n\nhttp = httpx2.AsyncClient(headers={"Authorization": "Bearer ${key}"})\nasync with Client(streamable_http_client("${url}", http_client=http)) as client:\n    print(await client.call_tool("list_bases", {}))`,
    },
  ];
  return (
    <>
      <h2>Connect an AI agent</h2>
      <p className="muted">
        Agents reach your bases through the Model Context Protocol with your own role in each workspace. Every write they make is a transaction you can undo (Transactions), and they share
        each base's Airtable rate limit with you.
      </p>
      <h3>MCP server URL</h3>
      <code className="secret" data-testid="mcp-url">
        {url}
      </code>
      <p>
        Clients that sign in with OAuth (Claude, ChatGPT, the MCP SDKs) need nothing but this URL: they open a page here where you approve them, and they appear under
        Sessions, where you can disconnect them. For clients that take a header instead, create an API key:
      </p>
      <p>
        <button type="button" className="button primary" disabled={create.isPending} onClick={() => create.mutate()}>
          Create an API key for an agent
        </button>
      </p>
      {create.isError && <ErrorMessage error={create.error} />}
      {create.isSuccess && (
        <div className="notice success" role="status">
          <p>Key “{create.data.name}” created (revocable under API keys). Copy it now; it will not be shown again. The snippets below include it.</p>
          <code className="secret" data-testid="agent-key">
            {create.data.key}
          </code>
        </div>
      )}
      {snippets.map((s) => (
        <section key={s.client}>
          <h3>{s.client}</h3>
          <pre className="secret snippet">
            <code>{s.text}</code>
          </pre>
        </section>
      ))}
    </>
  );
}
