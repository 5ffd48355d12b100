-- wrk script: /put?message=<n> with a new value every request, each request
-- with the next of the session cookies listed in the file given after `--`,
-- so that writes are spread over many sessions.
local cookies = {}
local n = 0

init = function(args)
  for line in io.lines(args[1]) do cookies[#cookies + 1] = line end
end

request = function()
  n = n + 1
  local cookie = cookies[(n % #cookies) + 1]
  return wrk.format("GET", "/put?message=" .. n, { Cookie = cookie })
end
