# expect: Q203 1 unlike
filter eventName unlike 'Get'
