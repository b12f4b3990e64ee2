// Every call to the Delphos API goes through here: the key travels only in the x-api-key
// header (never in a URL), and every failure becomes an ApiError with the server's code.
import { readEvents } from "./sse.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function failure(response) {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || "Request failed";
  try {
    const body = await response.json();
    code = body.code || code;
    message = body.message || message;
  } catch {
    /* not JSON: keep the status */
  }
  return new ApiError(response.status, code, message);
}

export function createApi(key) {
  const headers = (extra = {}) => ({ "x-api-key": key, ...extra });

  async function request(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: headers(body ? { "Content-Type": "application/json" } : {}),
        body: body ? JSON.stringify(body) : undefined,
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "NETWORK_ERROR", "Delphos could not be reached");
    }
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  return {
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),

    /** POST the note request and stream its events to onEvent; resolves when it ends. */
    async streamNote(body, onEvent, signal) {
      let response;
      try {
        response = await fetch("/v1/consultation/progressive-soap/stream", {
          method: "POST",
          headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
          body: JSON.stringify({ ...body, stream: true }),
          signal,
        });
      } catch (err) {
        if (err.name === "AbortError") throw err;
        throw new ApiError(0, "NETWORK_ERROR", "Delphos could not be reached");
      }
      if (!response.ok) throw await failure(response);
      await readEvents(response, onEvent);
    },
  };
}

export const enc = encodeURIComponent;
