# expect: Q203 1 lik
filter eventName lik 'Get'
