import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "./api/client";

// 4xx answers are final (the API said why); 429 and server errors are worth two more tries.
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => {
        if (!(error instanceof ApiError)) return count < 1;
        if (error.status === 429 || error.status >= 500 || error.status === 0) return count < 2;
        return false;
      },
      retryDelay: (count, error) =>
        error instanceof ApiError && error.retryAfter ? error.retryAfter * 1000 : Math.min(1000 * 2 ** count, 4000),
    },
    mutations: { retry: false },
  },
});
