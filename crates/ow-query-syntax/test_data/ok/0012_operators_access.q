fields jsonParse(@message) as m | fields m.users[1].name as user, m.`user.id` as uid, m.list[0] as first
