filter status >= 500 | join type=left left=api right=fn where api.requestId = fn.requestId (SOURCE '/aws/lambda/backend') | fields api.requestId, api.status, fn.duration
